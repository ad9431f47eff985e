#include "common/money.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace orders {

std::string Money::to_decimal() const {
  // In unsigned arithmetic: -cents of the smallest int64 overflows.
  std::uint64_t abs = cents < 0 ? 0 - static_cast<std::uint64_t>(cents) : static_cast<std::uint64_t>(cents);
  std::string out = cents < 0 ? "-" : "";
  out += std::to_string(abs / 100);
  out += '.';
  std::uint64_t frac = abs % 100;
  out += static_cast<char>('0' + frac / 10);
  out += static_cast<char>('0' + frac % 10);
  return out;
}

std::optional<Money> checked_add(Money a, Money b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a.cents, b.cents, &sum)) return std::nullopt;
  return Money{sum};
}

std::optional<Money> checked_mul(Money a, std::int64_t n) {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(a.cents, n, &product)) return std::nullopt;
  return Money{product};
}

std::optional<Money> parse_decimal_money(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  if (text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 15) return std::nullopt;
  if (dot != std::string_view::npos && (frac.empty() || frac.size() > 2)) return std::nullopt;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t units = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), units);
  std::int64_t cents = 0;
  if (frac.size() >= 1) cents += (frac[0] - '0') * 10;
  if (frac.size() == 2) cents += frac[1] - '0';
  // At most 15 whole digits: below 10^17 cents, far inside int64.
  std::int64_t total = units * 100 + cents;
  return Money{negative ? -total : total};
}

std::optional<Money> money_from_double(double value) {
  if (!std::isfinite(value) || std::fabs(value) >= 1e13) return std::nullopt;
  // The shortest fixed-notation text that reads back as the same double is what the client
  // wrote (for up to 15 significant digits), so its decimals are the client's decimals.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  if (ec != std::errc{}) return std::nullopt;
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  return parse_decimal_money(text);
}

}  // namespace orders
