#include "catalog/stock_buckets.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>

#include "catalog/keys.hpp"
#include "catalog/model.hpp"

namespace orders::catalog::buckets {

static_assert(kMaxBuckets == kMaxStockBuckets);

int home_bucket(std::string_view user_id, int buckets) {
  if (buckets <= 1) return 0;
  std::uint32_t h = 2166136261u;
  for (char c : user_id) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return static_cast<int>(h % static_cast<std::uint32_t>(buckets));
}

std::string home_bucket_name(std::string_view product_id, std::string_view user_id, int buckets) {
  return keys::bucket(product_id, home_bucket(user_id, buckets));
}

std::vector<long long> split(long long total, int buckets) {
  if (buckets < 1) buckets = 1;
  std::vector<long long> parts(buckets, total / buckets);
  for (long long i = 0; i < total % buckets; ++i) ++parts[i];
  return parts;
}

namespace {

// Indexes of `left` from the fullest counter down (ties: the lower index first).
std::vector<int> fullest_first(const std::vector<long long>& left) {
  std::vector<int> order(left.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return left[a] > left[b]; });
  return order;
}

}  // namespace

std::vector<long long> spread_change(long long delta, const std::vector<long long>& left) {
  if (left.empty()) return {};
  if (delta >= 0) return split(delta, static_cast<int>(left.size()));
  std::vector<long long> change(left.size(), 0);
  long long to_take = -delta;
  for (int b : fullest_first(left)) {
    if (to_take == 0) break;
    const long long taken = std::min(to_take, std::max(0LL, left[b]));
    change[b] = -taken;
    to_take -= taken;
  }
  return change;
}

std::vector<Give> plan_gives(long long needed, int home, const std::vector<long long>& left) {
  std::vector<Give> gives;
  for (int b : fullest_first(left)) {
    if (needed <= 0) break;
    if (b == home || left[b] <= 0) continue;
    const long long units = std::min(needed, left[b]);
    gives.push_back(Give{b, units});
    needed -= units;
  }
  return gives;
}

std::string transfer_record(std::string_view source_bucket, std::string_view transfer_id) {
  return catalog::keys::tag(source_bucket) + ":xfer:" + std::string(transfer_id);
}

std::string transfer_received(std::string_view target_bucket, std::string_view transfer_id) {
  return catalog::keys::tag(target_bucket) + ":xin:" + std::string(transfer_id);
}

}  // namespace orders::catalog::buckets
