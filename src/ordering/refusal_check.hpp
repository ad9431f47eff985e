#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "ordering/order_request.hpp"
#include "ordering/stock_gate.hpp"
#include "storage/redis/reply.hpp"

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
// script's order, with its item and figures), or nullopt when every rule holds. Without
// `order_total`, the order's total is not checked (cluster_take.lua's rules: the cluster gate
// checks the total after every slot took its items).
std::optional<ReserveReply> first_refusal(const std::vector<ItemReading>& items, std::int64_t now_ms,
                                          bool order_total = true);

// One MULTI of reads for first_refusal: `leading` commands first (EXISTS of the caller's own
// keys), then per item its rules (HMGET), the user's count (HGET) and its counter (GET) under
// `sale_names[i]` (the product id, or the name of the bucket the user buys from), then TIME.
// On a cluster every key must share one slot (ClusterStockGate reads one MULTI per slot); on
// one Redis a MULTI may carry several readings (group_commands). Keeps the texts its commands
// view: not copied, not moved.
class RulesReading {
 public:
  RulesReading(const std::vector<std::vector<std::string>>& leading, const std::vector<std::string>& sale_names,
               const std::string& user_id);
  RulesReading(const RulesReading&) = delete;
  RulesReading& operator=(const RulesReading&) = delete;

  std::span<const std::vector<std::string_view>> commands() const { return commands_; }

  struct Read {
    std::vector<long long> leading;  // the leading commands' integer replies
    std::vector<ItemReading> items;  // with the quantities given to parse()
    std::int64_t now_ms = 0;         // Redis' clock
  };
  // EXEC's reply read back; nullopt when it is not one (an error, a reply missing).
  std::optional<Read> parse(const redis::Reply& exec, const std::vector<long long>& quantities) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::vector<std::string_view>> commands_;
  std::size_t leading_ = 0;
  std::size_t items_ = 0;
};

// Several readings as one MULTI, on one Redis (RedisStockGate gathers the readings of the
// purchases that arrive together): each reading's commands but its TIME, in turn, then one TIME
// for all (the MULTI runs as one step, so one clock reading is each one's).
std::vector<std::vector<std::string_view>> group_commands(std::span<const RulesReading* const> group);
// EXEC's reply to group_commands(group) cut into each reading's own EXEC reply (its commands'
// replies, then the TIME) for its parse(). A reply that is not the group's (an error, a nil
// EXEC, another size) is given to each reading as it is: none parses, each purchase goes to
// the script.
std::vector<redis::Reply> split_group_reply(std::span<const RulesReading* const> group, redis::Reply exec);

// Which products' last purchase in this gate was refused for the product's sake (sold out,
// sale not open, gone; not a user's limit): a hint that picks the reading path first, never an
// answer. One per gate (one per I/O thread): no locking. Bounded: cleared when full.
class RefusalHint {
 public:
  bool likely(const OrderRequest& request) const;
  // After the script's answer: a refusal names its product, an acceptance clears the order's.
  void remember(const OrderRequest& request, const ReserveReply& reply);
  void forget(const OrderRequest& request);

 private:
  std::unordered_set<std::string> refused_;
};

}  // namespace orders::ordering
