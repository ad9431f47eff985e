#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ordering/stock_gate.hpp"

// The purchase rules of reserve.lua, read-only, for the sold-out path on one Redis
// (RedisStockGate): one MULTI reads what the script would read, and when the reading refuses
// the order, that refusal is the answer without running the script. The rules, their order and
// the refusal's figures are the script's (src/ordering/lua/reserve.lua); a reading that would
// take the stock is no answer: the script decides it.
namespace orders::ordering {

// What Redis holds for one item of the order, each as Redis answered it (nullopt: nil).
struct ItemReading {
  long long quantity = 0;
  std::optional<std::string> active, price, max, starts, ends;  // {p:ID}:info
  std::optional<std::string> bought;                            // HGET {p:ID}:buyers USER
  std::optional<std::string> left;                              // GET {p:ID}:stock
};

// The refusal reserve.lua would answer for these readings at `now_ms` (PRODUCT_NOT_FOUND, a
// total the record cannot hold, SALE_NOT_ACTIVE, PURCHASE_LIMIT_EXCEEDED, OUT_OF_STOCK, in the
// script's order, with its item and figures), or nullopt when every rule holds.
std::optional<ReserveReply> first_refusal(const std::vector<ItemReading>& items, std::int64_t now_ms);

}  // namespace orders::ordering
