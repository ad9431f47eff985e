#pragma once

#include <string>
#include <string_view>

// Redis keys of one product share the hash tag {p:ID}, so every script over them runs on one
// slot (the design carries over to Redis Cluster).
namespace orders::catalog::keys {

inline std::string tag(std::string_view id) { return "{p:" + std::string(id) + "}"; }
inline std::string stock(std::string_view id) { return tag(id) + ":stock"; }  // live units available
inline std::string info(std::string_view id) { return tag(id) + ":info"; }    // sale rules for purchases
inline std::string cache(std::string_view id) { return tag(id) + ":cache"; }  // cached product JSON
inline std::string gen(std::string_view id) { return tag(id) + ":gen"; }      // bumped by every write

// The negative-cache marker: a product JSON always starts with '{'.
inline constexpr std::string_view kAbsent = "-";

}  // namespace orders::catalog::keys
