#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orders {

// An exact amount of money in integer cents; never a binary float.
struct Money {
  std::int64_t cents = 0;

  friend bool operator==(Money, Money) = default;
  friend auto operator<=>(Money, Money) = default;
  // Unchecked: for amounts known to be small (callers with untrusted sizes use the checked_ forms).
  Money operator*(std::int64_t n) const { return Money{cents * n}; }
  Money operator+(Money o) const { return Money{cents + o.cents}; }

  // "19.99", "0.50", "-3.00": what PostgreSQL's numeric(12,2) stores and prints.
  std::string to_decimal() const;
};

// The largest price we accept: numeric(12, 2) holds below 10^10.
inline constexpr std::int64_t kMaxPriceCents = 999'999'999'99;

// Sum and product that say when the result does not fit in int64 cents, instead of overflowing.
std::optional<Money> checked_add(Money a, Money b);
std::optional<Money> checked_mul(Money a, std::int64_t n);

// Parses a decimal text with at most two fractional digits ("19.99", "5", "5.5", "-1.25").
// Nothing for anything else (three decimals, exponents, junk, out of int64 cents).
std::optional<Money> parse_decimal_money(std::string_view text);

// A JSON number (already parsed to double by the JSON library) as exact cents, when its
// shortest round-trip decimal form has at most two decimals: 19.99 → 1999, 19.999 → nothing.
std::optional<Money> money_from_double(double value);

}  // namespace orders
