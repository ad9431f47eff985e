#include "catalog/slug.hpp"

namespace orders::catalog {

std::string derive_slug(std::string_view name) {
  std::string out;
  bool dash = false;
  for (unsigned char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      if (dash && !out.empty()) out += '-';
      out += static_cast<char>(c);
      dash = false;
    } else if (c >= 'A' && c <= 'Z') {
      if (dash && !out.empty()) out += '-';
      out += static_cast<char>(c - 'A' + 'a');
      dash = false;
    } else {
      dash = true;
    }
    if (out.size() >= 200) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

bool is_valid_slug(std::string_view slug) {
  if (slug.empty() || slug.size() > 200 || slug.front() == '-' || slug.back() == '-') return false;
  char prev = 0;
  for (char c : slug) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && prev == '-')) return false;
    prev = c;
  }
  return true;
}

}  // namespace orders::catalog
