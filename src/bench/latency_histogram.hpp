#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace orders::bench {

// Latencies in nanoseconds, counted in log-linear buckets as HdrHistogram does: values below
// 256 ns each have a bucket of their own; above that, every power-of-two range is split into
// 128 equal buckets, so a bucket is never wider than 1/128 (0.8%) of the values it holds.
// Recording is an index computation and an increment; memory is fixed (~60 KiB) whatever
// the number of samples. The minimum, maximum and sum are kept exactly.
class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;  // 2^7 = 128 buckets per power of two
  static constexpr std::uint64_t kSubBucketHalf = 1ULL << kSubBucketBits;
  static constexpr std::uint64_t kSubBucketCount = kSubBucketHalf * 2;  // exact below this
  // The largest relative error of a reported percentile (the bucket's width over its start).
  static constexpr double kRelativeError = 1.0 / static_cast<double>(kSubBucketHalf);

  LatencyHistogram();

  void record(std::uint64_t value_ns) {
    ++counts_[bucket_of(value_ns)];
    ++count_;
    sum_ += value_ns;
    if (value_ns > max_) max_ = value_ns;
    if (value_ns < min_) min_ = value_ns;
  }
  void merge(const LatencyHistogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return count_ ? max_ : 0; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // The value at quantile q (0..1): the upper end of the bucket that holds the sample of rank
  // ceil(q * count), never above the exact maximum. 0 when empty.
  std::uint64_t percentile(double q) const;

  // Bucket arithmetic, public for the tests.
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_lowest(std::size_t bucket);
  static std::uint64_t bucket_highest(std::size_t bucket);

 private:
  // Values up to 2^64 - 1: the kSubBucketCount exact buckets, then kSubBucketHalf for each of
  // the ranges [2^m, 2^(m+1)) with m from kSubBucketBits + 1 to 63.
  static constexpr std::size_t kBuckets = (64 - kSubBucketBits + 1) * kSubBucketHalf;

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = UINT64_MAX;
};

}  // namespace orders::bench
