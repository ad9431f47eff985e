#include "ordering/units.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "catalog/keys.hpp"
#include "catalog/stock_buckets.hpp"
#include "ordering/cluster_keys.hpp"
#include "ordering/keys.hpp"
#include "storage/redis/blocking_redis.hpp"

namespace orders::ordering {

ScriptCall return_units_call(const OrderUnits& units) {
  ScriptCall call;
  call.keys = {keys::returned(units.order_id), keys::order(units.order_id)};
  call.args = {units.user_id, std::to_string(keys::kReturnedMarkerTtlSeconds)};
  for (const auto& [product, quantity] : units.items) {
    call.keys.push_back(catalog::keys::stock(product));
    call.keys.push_back(keys::buyers(product));
    call.args.push_back(std::to_string(quantity));
  }
  return call;
}

std::vector<redis::Command> return_units_commands(const OrderUnits& units, bool cluster) {
  std::vector<redis::Command> commands;
  if (!cluster) {
    ScriptCall call = return_units_call(units);
    commands.push_back(redis::Command::eval(redis::script("return_units"), std::move(call.keys), std::move(call.args)));
    return commands;
  }
  std::vector<std::string> products;
  for (const auto& [product, quantity] : units.items) products.push_back(product);
  for (const cluster_keys::SlotGroup& g : cluster_keys::group_by_slot(products)) {
    std::vector<std::string> k{cluster_keys::part_returned(g.first, units.order_id),
                               cluster_keys::part(g.first, units.order_id),
                               cluster_keys::part_void(g.first, units.order_id)};
    std::vector<std::string> a{units.user_id, std::to_string(keys::kReturnedMarkerTtlSeconds)};
    for (std::size_t i : g.positions) {
      k.push_back(catalog::keys::stock(units.items[i].first));
      k.push_back(keys::buyers(units.items[i].first));
      a.push_back(std::to_string(units.items[i].second));
    }
    commands.push_back(redis::Command::eval(redis::script("cluster_return"), std::move(k), std::move(a)));
  }
  commands.push_back(redis::Command::of({"DEL", cluster_keys::order(units.order_id)}));
  return commands;
}

void route_to_home_buckets(redis::BlockingRedis& redis, std::vector<OrderUnits>& units) {
  std::vector<std::string> products;
  for (const auto& u : units) {
    for (const auto& [product, quantity] : u.items) {
      if (std::find(products.begin(), products.end(), product) == products.end()) products.push_back(product);
    }
  }
  if (products.empty()) return;
  std::vector<redis::Command> gets;
  for (const auto& product : products) gets.push_back(redis::Command::of({"GET", catalog::keys::buckets(product)}));
  const std::vector<redis::Reply> counts = redis.pipeline(gets);
  std::unordered_map<std::string, int> buckets;
  for (std::size_t i = 0; i < products.size() && i < counts.size(); ++i) {
    const redis::Reply& r = counts[i];
    int n = 1;
    if (r.type == redis::Reply::Type::kString) {
      std::from_chars(r.str.data(), r.str.data() + r.str.size(), n);
    }
    buckets[products[i]] = std::clamp(n, 1, catalog::buckets::kMaxBuckets);
  }
  for (auto& u : units) {
    for (auto& [product, quantity] : u.items) {
      product = catalog::buckets::home_bucket_name(product, u.user_id, buckets[product]);
    }
  }
}

std::string pending_order_key(const std::string& order_id, bool cluster) {
  return cluster ? cluster_keys::order(order_id) : keys::order(order_id);
}

}  // namespace orders::ordering
