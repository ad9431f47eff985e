#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "storage/redis/commands.hpp"

// A hot product's buckets on Redis Cluster: reading their counters and moving units into a
// buyer's home bucket that is short, by an idempotent two-step transfer (bucket_give.lua on the
// source, bucket_receive.lua on the home; scripts in src/ordering/lua, arithmetic in
// stock_buckets.hpp). A transfer whose caller stopped between its steps is finished by
// settle_transfer, which voids a give that had not run.
namespace orders::ordering::buckets {

// Every bucket's counter in bucket order (0 where a bucket has none). Throws
// DependencyUnavailable when Redis cannot answer.
boost::asio::awaitable<std::vector<long long>> read_counters(redis::Commands& redis, const std::string& product,
                                                             int buckets);

// The id of the transfer from `source` made under `transfer_id` (one per source bucket).
std::string give_id(const std::string& transfer_id, int source);

// Moves units from the other buckets into `home`, fullest first, until it holds `needed` or an
// even share of the product's units, whichever is more; the units that arrived. `transfer_id` is unique per attempt (a
// retry of the same id repeats, not adds).
boost::asio::awaitable<long long> refill_home(redis::Commands& redis, const std::string& product, int buckets, int home,
                                              long long needed, const std::string& transfer_id);

// Finishes the give from `source` to `target` made under `transfer_id` whatever step its caller
// stopped at: a give that ran is received once, one that had not run never will. The units
// received now.
boost::asio::awaitable<long long> settle_transfer(redis::Commands& redis, const std::string& product, int source,
                                                  int target, const std::string& transfer_id);

}  // namespace orders::ordering::buckets
