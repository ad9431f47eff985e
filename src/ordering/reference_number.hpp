#pragma once

#include <string>

namespace orders::ordering {

// ORD- + the whole 128-bit order id in Crockford base32 (26 characters, no I, L, O, U): as
// unique as the id itself, and easier to read out than a UUID.
std::string reference_number(const std::string& order_id);

}  // namespace orders::ordering
