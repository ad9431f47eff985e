#pragma once

#include <string>
#include <utility>
#include <vector>

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

}  // namespace orders::ordering
