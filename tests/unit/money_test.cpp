#include <gtest/gtest.h>

#include "common/money.hpp"

using namespace orders;

TEST(Money, DecimalTextRoundTripsExactly) {
  EXPECT_EQ(parse_decimal_money("19.99")->cents, 1999);
  EXPECT_EQ(parse_decimal_money("5")->cents, 500);
  EXPECT_EQ(parse_decimal_money("5.5")->cents, 550);
  EXPECT_EQ(parse_decimal_money("0.01")->cents, 1);
  EXPECT_EQ(parse_decimal_money("-1.25")->cents, -125);
  EXPECT_EQ(Money{1999}.to_decimal(), "19.99");
  EXPECT_EQ(Money{500}.to_decimal(), "5.00");
  EXPECT_EQ(Money{7}.to_decimal(), "0.07");
  EXPECT_EQ(Money{-125}.to_decimal(), "-1.25");
}

TEST(Money, DecimalTextRejectsJunkAndThirdDecimal) {
  for (const char* bad : {"", "19.999", "1e3", "abc", ".5", "5.", "1.2.3", "--1", " 1", "1 "}) {
    EXPECT_FALSE(parse_decimal_money(bad)) << bad;
  }
}

TEST(Money, JsonDoublesWithTwoDecimalsAreExact) {
  EXPECT_EQ(money_from_double(19.99)->cents, 1999);
  EXPECT_EQ(money_from_double(0.1)->cents, 10);
  EXPECT_EQ(money_from_double(0.29)->cents, 29);  // 0.29 * 100 = 28.999999999999996 in binary
  EXPECT_EQ(money_from_double(1234567.89)->cents, 123456789);
  EXPECT_EQ(money_from_double(9999999999.99)->cents, 999999999999);
  EXPECT_EQ(money_from_double(1e10)->cents, 1000000000000);
  EXPECT_EQ(money_from_double(0.0)->cents, 0);
}

TEST(Money, JsonDoublesWithMoreDecimalsAreRejected) {
  EXPECT_FALSE(money_from_double(19.999));
  EXPECT_FALSE(money_from_double(0.001));
  EXPECT_FALSE(money_from_double(1e-7));
  EXPECT_FALSE(money_from_double(1e300));
}

TEST(Money, Arithmetic) {
  EXPECT_EQ((Money{1999} * 3).cents, 5997);
  EXPECT_EQ((Money{1} + Money{2}).cents, 3);
  EXPECT_LT(Money{1}, Money{2});
}

TEST(Money, CheckedArithmeticSaysWhenItDoesNotFit) {
  EXPECT_EQ(checked_mul(Money{99'999'999'999}, 1000)->cents, 99'999'999'999'000);
  EXPECT_EQ(checked_add(Money{1}, Money{2})->cents, 3);
  EXPECT_FALSE(checked_mul(Money{INT64_MAX / 2}, 3));
  EXPECT_FALSE(checked_add(Money{INT64_MAX}, Money{1}));
  EXPECT_EQ(Money{INT64_MIN}.to_decimal(), "-92233720368547758.08");
  EXPECT_EQ(Money{INT64_MAX}.to_decimal(), "92233720368547758.07");
}
