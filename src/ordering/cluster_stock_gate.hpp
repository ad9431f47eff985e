#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ordering/cluster_keys.hpp"
#include "ordering/confirm_batch.hpp"
#include "ordering/redis_stock_gate.hpp"
#include "ordering/refusal_check.hpp"
#include "ordering/stock_gate.hpp"
#include "storage/redis/commands.hpp"

namespace orders::ordering {

// The purchase on Redis Cluster, where one script cannot span the slots of an order: begin on
// the order's home slot, take on each product slot, commit on the home slot; any refusal
// undoes what was taken (docs/architecture.md, "Orders across slots"; scripts
// src/ordering/lua/cluster_*.lua, keys ordering/cluster_keys.hpp). The intake cannot tell it
// from RedisStockGate: the same replies, the same lost-reply contract.
class ClusterStockGate final : public StockGate {
 public:
  ClusterStockGate(redis::Commands& redis, IntakeSettings settings = {}) : redis_(redis), settings_(settings) {}

  bool connected() const override { return redis_.connected(); }
  std::string make_order_id(const OrderRequest& request) override;
  boost::asio::awaitable<std::optional<ReserveReply>> known_refusal(const OrderRequest& request) override;
  boost::asio::awaitable<ReserveReply> reserve(const Reservation& reservation) override;
  boost::asio::awaitable<void> confirm(const std::string& order_id) override;
  boost::asio::awaitable<bool> release(const Reservation& reservation, const std::string& lease_deadline) override;
  boost::asio::awaitable<std::optional<std::string>> abandon(const std::string& order_id) override;
  boost::asio::awaitable<std::optional<std::string>> pending_order(const std::string& order_id) override;
  boost::asio::awaitable<void> return_units(const OrderUnits& units) override;
  boost::asio::awaitable<std::vector<std::pair<std::string, std::string>>> claim_due(long long lease_ms,
                                                                                     int batch) override;
  boost::asio::awaitable<long long> outbox_depth() override;
  boost::asio::awaitable<int> recover_due(int batch) override;

 private:
  using Items = std::vector<std::pair<std::string, long long>>;
  // An order's items as the product slots hold them: each product's bucket named
  // (catalog::keys::bucket: the user's home bucket of a product in stockBuckets), and the
  // number of buckets of each.
  struct Routed {
    Items items;
    std::vector<int> buckets;
  };
  boost::asio::awaitable<Routed> route(const Items& items, const std::string& user_id);
  // begin, take on each slot, commit (or undo): the purchase itself.
  boost::asio::awaitable<ReserveReply> reserve_by_scripts(const Reservation& reservation);
  // The sold-out path (ordering/refusal_check.hpp): while a product's last purchase here was
  // refused, a purchase of it (every item in one bucket) first reads the home slot's markers
  // and each product slot's rules in one MULTI per slot, and a refusal found is the answer: no
  // script, nothing written. Anything else goes to the scripts. The slots are read one after
  // the other, as the takes run.
  boost::asio::awaitable<std::optional<ReserveReply>> refusal_from_reading(const OrderRequest& request,
                                                                           const Items& held);
  // What the intake does when a bucketed product's home bucket was short.
  enum class Refill { kTakeAgain, kSoldOut, kRolledBack };
  struct RefillResult {
    Refill next = Refill::kTakeAgain;
    long long left = 0;  // kSoldOut: the product's units over all its buckets
  };
  // Moves units into the user's home bucket of `product` under a transfer id noted in the
  // order's transaction record first (`noted` gets it), so a recovery settles it.
  boost::asio::awaitable<RefillResult> refill(const std::string& order_id, const std::string& product, int buckets,
                                              int home, long long quantity, const std::string& transfer_id,
                                              std::vector<std::string>& noted);
  // Finishes transfers noted as "product:buckets:home:transfer id" (the units that left a
  // bucket arrive in the home bucket). Idempotent.
  boost::asio::awaitable<void> settle(const std::vector<std::string>& transfers);
  // Untakes every part of the order (units back where one was taken, tombstones everywhere),
  // then ends its transaction on the home slot. Idempotent.
  boost::asio::awaitable<void> undo(const std::string& order_id, const std::string& user_id, const Items& items,
                                    const std::string& idempotency_record);
  boost::asio::awaitable<int> recover_partition(int partition, int batch);

  redis::Commands& redis_;
  IntakeSettings settings_;
  // Products' stockBuckets as Redis names them ({p:ID}:buckets); they never change, so they
  // are kept for the process's life (bounded: cleared when full).
  std::unordered_map<std::string, int> bucket_counts_;
  RefusalHint refusals_;
  // The outbox confirms of each partition's slot, gathered per partition (made on first use).
  std::array<std::unique_ptr<ConfirmBatch>, cluster_keys::kHomePartitions> confirms_;
};

}  // namespace orders::ordering
