#pragma once

#include <string>
#include <utility>
#include <vector>

#include "storage/redis/blocking.hpp"

namespace orders::redis {
class BlockingRedis;
}

// The units of an order going back to the live counters: one place builds return_units.lua's
// KEYS and ARGV, for the API's cancel (async), the worker's FAILED orders and the sweeper's EXPIRED
// ones (blocking).
namespace orders::ordering {

struct OrderUnits {
  std::string order_id;
  std::string user_id;
  std::vector<std::pair<std::string, long long>> items;  // product, quantity
};

struct ScriptCall {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

// return_units.lua for one order: the returned:{id} once-marker, the pending copy, and per item
// the stock counter and the buyers' counts.
ScriptCall return_units_call(const OrderUnits& units);

// The same as blocking commands for either mode: return_units.lua on one Redis; on a Redis
// Cluster cluster_return.lua per product slot and the DEL of the pending copy on the home slot
// (ClusterStockGate::return_units' steps). Each is idempotent; the first reply of each order's
// commands is 1 when its units went back now.
std::vector<redis::Command> return_units_commands(const OrderUnits& units, bool cluster);
// Redis Cluster: renames each item's product to the bucket its user's units came from (the
// user's home bucket of a product in stockBuckets, catalog/stock_buckets.hpp), as the purchase
// took them, so return_units_commands gives them back there. One pipelined GET per product.
// Throws DependencyUnavailable when Redis is down.
void route_to_home_buckets(redis::BlockingRedis& redis, std::vector<OrderUnits>& units);
// The key of an order's pending copy in either mode.
std::string pending_order_key(const std::string& order_id, bool cluster);

}  // namespace orders::ordering
