#pragma once

#include <optional>
#include <string>

namespace orders {

// One problem with one field of a request ("items[0].quantity": "must be at least 1"); a
// refusal of a purchase item also names the product.
struct FieldError {
  std::string field;
  std::string message;
  std::string product_id;  // set when the field is an order item's product
};

// A field of a partial update: absent (leave as is), null (clear), or a value.
template <typename T>
struct Patch {
  bool present = false;
  std::optional<T> value;
  bool is_null() const { return present && !value; }
};

}  // namespace orders
