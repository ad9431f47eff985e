#pragma once

#include <string>
#include <string_view>
#include <vector>

// The arithmetic of a product split into `stockBuckets` (docs/architecture.md, "Hot products in
// buckets"): which bucket is a buyer's home, how stock is spread over the buckets, which buckets
// give units to a home that is short. Pure functions; the transfer on Redis is ordering/bucket_transfer.hpp.
namespace orders::catalog::buckets {

inline constexpr int kMaxBuckets = 64;  // catalog::kMaxStockBuckets, the field's bound

// The buyer's home bucket, 0..buckets-1 (FNV-1a of the user id): their per-user count, their
// limit check and their decrement are in it, so one script decides them together.
int home_bucket(std::string_view user_id, int buckets);
// The name of that bucket (catalog::keys::bucket): what the purchase takes from and returns to.
std::string home_bucket_name(std::string_view product_id, std::string_view user_id, int buckets);

// `total` units over `buckets` counters, as even as can be (the first ones get the remainder).
std::vector<long long> split(long long total, int buckets);

// A change of a product's stock by `delta` applied to its counters `left`: a rise is split
// evenly, a fall is taken from the fullest counters first, never below 0. The changes per
// counter; their sum is `delta` unless the counters hold less than a fall asks.
std::vector<long long> spread_change(long long delta, const std::vector<long long>& left);

// The units to move so that `home` gains `needed`: from the fullest other buckets first, as
// much as each holds. Covers less than `needed` when the others hold less.
struct Give {
  int bucket = 0;
  long long units = 0;
};
std::vector<Give> plan_gives(long long needed, int home, const std::vector<long long>& left);

// Keys of one transfer: the give's record on the source ("what left here", or 0 when the give
// was voided before it ran) and the receive's once-marker on the target.
std::string transfer_record(std::string_view source_bucket, std::string_view transfer_id);
std::string transfer_received(std::string_view target_bucket, std::string_view transfer_id);

}  // namespace orders::catalog::buckets
