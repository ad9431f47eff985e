#include <gtest/gtest.h>

#include "common/backoff.hpp"

namespace {

using orders::Backoff;
using std::chrono::milliseconds;

TEST(Backoff, StartsAtMinDoublesAndStopsAtMax) {
  Backoff b(milliseconds(100), milliseconds(1000));
  EXPECT_EQ(b.current(), milliseconds(0));
  EXPECT_EQ(b.next(), milliseconds(100));
  EXPECT_EQ(b.next(), milliseconds(200));
  EXPECT_EQ(b.next(), milliseconds(400));
  EXPECT_EQ(b.next(), milliseconds(800));
  EXPECT_EQ(b.next(), milliseconds(1000));
  EXPECT_EQ(b.next(), milliseconds(1000));
  EXPECT_EQ(b.current(), milliseconds(1000));
}

TEST(Backoff, ResetStartsOverAtMin) {
  Backoff b(milliseconds(100), milliseconds(5000));
  b.next();
  b.next();
  b.reset();
  EXPECT_EQ(b.current(), milliseconds(0));
  EXPECT_EQ(b.next(), milliseconds(100));
}

// The HTTP server's accept pause: 10, 20, ... 640, then 1000 ms.
TEST(Backoff, CapIsReachedEvenWhenNotAPowerOfTwoOfMin) {
  Backoff b(milliseconds(10), milliseconds(1000));
  milliseconds last{0};
  for (int i = 0; i < 7; ++i) last = b.next();
  EXPECT_EQ(last, milliseconds(640));
  EXPECT_EQ(b.next(), milliseconds(1000));
}

}  // namespace
