#include "bench/latency_histogram.hpp"

#include <bit>
#include <cmath>

namespace orders::bench {

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

// Below kSubBucketCount the bucket is the value. Above, with m the index of the highest set
// bit, the value's top kSubBucketBits + 1 bits (128..255) pick one of the 128 buckets of the
// range [2^m, 2^(m+1)); ranges follow each other after the first kSubBucketCount buckets.
std::size_t LatencyHistogram::bucket_of(std::uint64_t value) {
  if (value < kSubBucketCount) return static_cast<std::size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - kSubBucketBits;                       // >= 1
  const std::uint64_t sub = (value >> shift) - kSubBucketHalf;  // 0..127
  return static_cast<std::size_t>((static_cast<std::uint64_t>(shift) + 1) * kSubBucketHalf + sub);
}

std::uint64_t LatencyHistogram::bucket_lowest(std::size_t bucket) {
  if (bucket < kSubBucketCount) return bucket;
  const std::uint64_t shift = bucket / kSubBucketHalf - 1;
  const std::uint64_t sub = bucket % kSubBucketHalf;
  return (kSubBucketHalf + sub) << shift;
}

std::uint64_t LatencyHistogram::bucket_highest(std::size_t bucket) {
  if (bucket < kSubBucketCount) return bucket;
  const std::uint64_t shift = bucket / kSubBucketHalf - 1;
  return bucket_lowest(bucket) + ((std::uint64_t{1} << shift) - 1);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.count_) {
    if (other.max_ > max_) max_ = other.max_;
    if (other.min_ < min_) min_ = other.min_;
  }
}

std::uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const std::uint64_t high = bucket_highest(i);
      return high < max_ ? high : max_;
    }
  }
  return max_;
}

}  // namespace orders::bench
