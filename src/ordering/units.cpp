#include "ordering/units.hpp"

#include "catalog/keys.hpp"
#include "ordering/keys.hpp"

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

}  // namespace orders::ordering
