#pragma once

#include <optional>
#include <string>
#include <vector>

namespace orders::postgres {

// A PostgreSQL array literal, "{a,b}", with every element quoted and escaped; a missing element
// is NULL. For unnest($1::uuid[], ...) batches sent as text parameters.
std::string pg_array(const std::vector<std::optional<std::string>>& values);

}  // namespace orders::postgres
