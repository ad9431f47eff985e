#include "common/uuid.hpp"

#include <chrono>
#include <random>

namespace orders::uuid {
namespace {

std::uint64_t random_bits() {
  // Seeded with 256 bits from the OS, so threads and processes do not share sequences.
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return engine();
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string make_v7() {
  using namespace std::chrono;
  const std::uint64_t ms = static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  std::uint64_t r1 = random_bits(), r2 = random_bits();
  for (int i = 6; i < 8; ++i) b[i] = static_cast<std::uint8_t>(r1 >> (8 * i));
  for (int i = 8; i < 16; ++i) b[i] = static_cast<std::uint8_t>(r2 >> (8 * (i - 8)));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x70);  // version 7
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 9562 variant
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

bool is_valid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> normalize(std::string_view text) {
  if (!is_valid(text)) return std::nullopt;
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace orders::uuid
