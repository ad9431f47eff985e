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
// How many buckets the product's stock is split over, when more than one (Redis Cluster only).
inline std::string buckets(std::string_view id) { return tag(id) + ":buckets"; }

// A product split into stockBuckets keeps one set of sale keys (stock, info, buyers) per bucket,
// each under its own tag so the buckets spread over the cluster's slots: bucket 0 is the
// product's own {p:ID}, bucket b > 0 is {p:ID#b}. What names a bucket is passed to the functions
// above in place of the id (cache, gen and buckets live in bucket 0 only). The product's stock is
// the sum of its counters.
inline std::string bucket(std::string_view id, int b) {
  return b == 0 ? std::string(id) : std::string(id) + "#" + std::to_string(b);
}

// The negative-cache marker: a product JSON always starts with '{'.
inline constexpr std::string_view kAbsent = "-";

}  // namespace orders::catalog::keys
