#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "bench/latency_histogram.hpp"

using orders::bench::LatencyHistogram;

namespace {

// The sample of rank ceil(q * n), as the histogram defines a percentile.
std::uint64_t exact_percentile(std::vector<std::uint64_t> values, double q) {
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  if (rank == 0) rank = 1;
  return values[rank - 1];
}

void expect_within_bucket_error(std::uint64_t reported, std::uint64_t exact) {
  EXPECT_GE(reported, exact);
  EXPECT_LE(static_cast<double>(reported - exact), static_cast<double>(exact) * LatencyHistogram::kRelativeError)
      << "reported " << reported << " for " << exact;
}

}  // namespace

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGapsOrOverlap) {
  for (std::size_t b = 0; b + 1 < 3000; ++b) {
    EXPECT_EQ(LatencyHistogram::bucket_highest(b) + 1, LatencyHistogram::bucket_lowest(b + 1)) << b;
  }
  const std::vector<std::uint64_t> values{0,         1, 255, 256, 257, 511, 512, 1000, 123456789, (1ULL << 40) + 12345,
                                          UINT64_MAX};
  for (std::uint64_t v : values) {
    const auto b = LatencyHistogram::bucket_of(v);
    EXPECT_LE(LatencyHistogram::bucket_lowest(b), v);
    EXPECT_GE(LatencyHistogram::bucket_highest(b), v);
  }
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 200; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 100u);
  EXPECT_EQ(h.percentile(0.99), 198u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 200u);
}

TEST(LatencyHistogram, PercentilesAreWithinTheBucketErrorOfTheExactOnes) {
  // Log-normal latencies around 2 ms with a long tail, in nanoseconds.
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(std::log(2e6), 0.8);
  std::vector<std::uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  ASSERT_EQ(h.count(), values.size());
  for (double q : {0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
    SCOPED_TRACE(q);
    expect_within_bucket_error(h.percentile(q), exact_percentile(values, q));
  }
}

TEST(LatencyHistogram, MaxMinAndMeanAreExact) {
  LatencyHistogram h;
  const std::vector<std::uint64_t> values{1'234'567, 987'654'321, 5'000, 77'777'777};
  for (auto v : values) h.record(v);
  EXPECT_EQ(h.max(), 987'654'321u);
  EXPECT_EQ(h.min(), 5'000u);
  EXPECT_EQ(h.percentile(1.0), 987'654'321u);
  // The top bucket's upper end lies above the maximum: the maximum is reported instead.
  EXPECT_EQ(h.percentile(0.9999), 987'654'321u);
  EXPECT_DOUBLE_EQ(h.mean(), (1'234'567.0 + 987'654'321.0 + 5'000.0 + 77'777'777.0) / 4);
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> fast(100'000, 2'000'000), slow(10'000'000, 900'000'000);
  LatencyHistogram a, b, all;
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 50000; ++i) {
    const auto v = fast(rng);
    a.record(v);
    all.record(v);
    values.push_back(v);
  }
  for (int i = 0; i < 500; ++i) {
    const auto v = slow(rng);
    b.record(v);
    all.record(v);
    values.push_back(v);
  }
  LatencyHistogram merged;
  merged.merge(a);
  merged.merge(b);
  merged.merge(LatencyHistogram{});  // an empty one changes nothing, min included
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.max(), *std::max_element(values.begin(), values.end()));
  EXPECT_EQ(merged.min(), *std::min_element(values.begin(), values.end()));
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double q : {0.5, 0.9, 0.99, 0.995, 0.999}) {
    SCOPED_TRACE(q);
    EXPECT_EQ(merged.percentile(q), all.percentile(q));
    expect_within_bucket_error(merged.percentile(q), exact_percentile(values, q));
  }
}
