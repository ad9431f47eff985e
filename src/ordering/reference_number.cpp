#include "ordering/reference_number.hpp"

namespace orders::ordering {

std::string reference_number(const std::string& order_id) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  unsigned __int128 value = 0;
  for (char c : order_id) {
    if (c == '-') continue;
    value = (value << 4) | static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i) {
    out[i] = kAlphabet[static_cast<unsigned>(value & 31)];
    value >>= 5;
  }
  return "ORD-" + out;
}

}  // namespace orders::ordering
