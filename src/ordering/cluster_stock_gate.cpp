#include "ordering/cluster_stock_gate.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <exception>
#include <optional>
#include <stdexcept>

#include "catalog/keys.hpp"
#include "catalog/stock_buckets.hpp"
#include "common/json_writer.hpp"
#include "common/money.hpp"
#include "common/time.hpp"
#include "ordering/bucket_transfer.hpp"
#include "ordering/cluster_keys.hpp"
#include "ordering/keys.hpp"
#include "ordering/refusal_check.hpp"

namespace orders::ordering {
namespace asio = boost::asio;
namespace ck = cluster_keys;
using redis::Reply;
using Kind = ReserveReply::Kind;

namespace {

constexpr std::int64_t kMaxTotalCents = 99'999'999'999'999;
// Parts and tombstones outlive any transaction (a recovery runs within seconds of a lease).
constexpr long long kPartTtlSeconds = 24 * 3600;
constexpr long long kRecoveryLeaseMs = 30'000;
// Refills of one bucketed item's home bucket before the purchase gives up (503: other buyers
// kept taking what arrived) rather than wait longer inside one request.
constexpr int kMaxRefills = 8;
constexpr std::size_t kMaxCachedBucketCounts = 100'000;

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from < text.size()) {
    std::size_t comma = text.find(',', from);
    if (comma == std::string::npos) comma = text.size();
    if (comma > from) out.push_back(text.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

std::string text_of(const Reply& r) { return r.type == Reply::Type::kInteger ? std::to_string(r.integer) : r.str; }

bool out_of_memory(const Reply& r) {
  return r.is_error() && r.str.find("OOM command not allowed") != std::string::npos;
}

const Reply& checked(const Reply& reply, std::string_view script) {
  if (reply.is_error()) throw std::runtime_error(std::string(script) + " failed: " + reply.str);
  return reply;
}

std::vector<std::pair<std::string, long long>> items_of(const OrderRequest& request) {
  std::vector<std::pair<std::string, long long>> items;
  for (const auto& item : request.items) items.emplace_back(item.product_id, item.quantity);
  return items;
}

std::vector<std::string> product_ids(const std::vector<std::pair<std::string, long long>>& items) {
  std::vector<std::string> ids;
  for (const auto& [product, quantity] : items) ids.push_back(product);
  return ids;
}

// The keys and quantities of one group's untake or return: per item stock and buyers.
void add_counter_keys(const std::vector<std::pair<std::string, long long>>& items, const ck::SlotGroup& g,
                      std::vector<std::string>& keys, std::vector<std::string>& args) {
  for (std::size_t i : g.positions) {
    keys.push_back(catalog::keys::stock(items[i].first));
    keys.push_back(ordering::keys::buyers(items[i].first));
    args.push_back(std::to_string(items[i].second));
  }
}

asio::awaitable<Reply> run(redis::Commands& redis, std::string_view name, const std::vector<std::string>& keys,
                           const std::vector<std::string>& args) {
  std::vector<std::string_view> k(keys.begin(), keys.end());
  std::vector<std::string_view> a(args.begin(), args.end());
  co_return co_await redis.eval(redis::script(name), k, a);
}

}  // namespace

std::string ClusterStockGate::make_order_id(const OrderRequest& request) {
  const int partition = request.idempotency_key
                            ? ck::partition_of_key(request.user_id, *request.idempotency_key)
                            : ck::partition_of(uuid::make_v7());  // uniform: the id's own random bits
  return ck::in_partition(uuid::make_v7(), partition);
}

asio::awaitable<ClusterStockGate::Routed> ClusterStockGate::route(const Items& items, const std::string& user_id) {
  std::vector<std::string> unknown, unknown_keys;
  for (const auto& [product, quantity] : items) {
    if (bucket_counts_.contains(product) || std::find(unknown.begin(), unknown.end(), product) != unknown.end()) {
      continue;
    }
    unknown.push_back(product);
    unknown_keys.push_back(catalog::keys::buckets(product));
  }
  if (!unknown.empty()) {
    std::vector<std::string_view> mget{"MGET"};
    for (const auto& k : unknown_keys) mget.push_back(k);
    Reply counts = co_await redis_.command(mget);
    if (bucket_counts_.size() + unknown.size() > kMaxCachedBucketCounts) bucket_counts_.clear();
    for (std::size_t n = 0; n < unknown.size() && n < counts.elements.size(); ++n) {
      const Reply& r = counts.elements[n];
      // None: a product Redis does not sell (the take refuses it), or one published before
      // stockBuckets: one bucket, and asked again next time.
      if (r.type == Reply::Type::kString && !r.str.empty()) {
        bucket_counts_[unknown[n]] = std::clamp(std::stoi(r.str), 1, catalog::buckets::kMaxBuckets);
      }
    }
  }
  Routed routed;
  for (const auto& [product, quantity] : items) {
    auto it = bucket_counts_.find(product);
    const int buckets = it == bucket_counts_.end() ? 1 : it->second;
    routed.items.emplace_back(catalog::buckets::home_bucket_name(product, user_id, buckets), quantity);
    routed.buckets.push_back(buckets);
  }
  co_return routed;
}

asio::awaitable<ClusterStockGate::RefillResult> ClusterStockGate::refill(const std::string& order_id,
                                                                         const std::string& product, int buckets,
                                                                         int home, long long quantity,
                                                                         const std::string& transfer_id,
                                                                         std::vector<std::string>& noted) {
  const std::string entry = product + ":" + std::to_string(buckets) + ":" + std::to_string(home) + ":" + transfer_id;
  const std::vector<std::string> note_keys{ck::transaction(order_id)};
  const std::vector<std::string> note_args{entry};
  Reply note = co_await run(redis_, "cluster_note_transfer", note_keys, note_args);
  checked(note, "cluster_note_transfer");
  if (note.integer != 1) co_return RefillResult{.next = Refill::kRolledBack};
  noted.push_back(entry);
  const long long arrived = co_await ordering::buckets::refill_home(redis_, product, buckets, home, quantity,
                                                                    transfer_id);
  if (arrived > 0) co_return RefillResult{};
  // Nothing came: sold out only when the buckets together hold less than asked (G5).
  const std::vector<long long> left = co_await ordering::buckets::read_counters(redis_, product, buckets);
  long long total = 0;
  for (long long n : left) total += n;
  if (total >= quantity) co_return RefillResult{};
  co_return RefillResult{.next = Refill::kSoldOut, .left = total};
}

asio::awaitable<void> ClusterStockGate::settle(const std::vector<std::string>& transfers) {
  for (const std::string& entry : transfers) {
    // "product:buckets:home:transfer id": the transfer may have given from any other bucket.
    const std::size_t a = entry.find(':'), b = entry.find(':', a + 1), c = entry.find(':', b + 1);
    if (c == std::string::npos) {
      spdlog::warn("transfer record {} is not product:buckets:home:id; left as it is", entry);
      continue;
    }
    const std::string product = entry.substr(0, a), transfer_id = entry.substr(c + 1);
    const int buckets = std::stoi(entry.substr(a + 1, b - a - 1)), home = std::stoi(entry.substr(b + 1, c - b - 1));
    for (int source = 0; source < buckets; ++source) {
      if (source != home) co_await ordering::buckets::settle_transfer(redis_, product, source, home, transfer_id);
    }
  }
}

asio::awaitable<void> ClusterStockGate::undo(const std::string& order_id, const std::string& user_id,
                                             const Items& items, const std::string& idempotency_record) {
  const std::string tombstone_ttl = std::to_string(kPartTtlSeconds);
  // (The groups named, not a temporary of the loop: GCC 12 destroys the temporaries of a
  // range-for's initializer in a coroutine twice, a double free that corrupted the heap under load.)
  const std::vector<ck::SlotGroup> groups = ck::group_by_slot(product_ids(items));
  for (const ck::SlotGroup& g : groups) {
    std::vector<std::string> keys{ck::part(g.first, order_id), ck::part_void(g.first, order_id)};
    std::vector<std::string> args{user_id, tombstone_ttl};
    add_counter_keys(items, g, keys, args);
    Reply reply = co_await run(redis_, "cluster_untake", keys, args);
    checked(reply, "cluster_untake");
  }
  const int partition = ck::partition_of(order_id);
  std::vector<std::string> keys{idempotency_record.empty() ? ck::no_idempotency(order_id) : idempotency_record,
                                ck::transaction(order_id), ck::transactions(partition)};
  const std::vector<std::string> abort_args{order_id};
  Reply reply = co_await run(redis_, "cluster_abort", keys, abort_args);
  checked(reply, "cluster_abort");
}

asio::awaitable<ReserveReply> ClusterStockGate::reserve(const Reservation& r) {
  ReserveReply decided = co_await reserve_by_scripts(r);
  refusals_.remember(*r.request, decided);
  co_return decided;
}

asio::awaitable<std::optional<ReserveReply>> ClusterStockGate::known_refusal(const OrderRequest& request) {
  if (!refusals_.likely(request)) co_return std::nullopt;
  const Items items = items_of(request);
  const Routed routed = co_await route(items, request.user_id);
  // Products in one bucket only: a bucket short of units is no refusal of a split product.
  if (!std::all_of(routed.buckets.begin(), routed.buckets.end(), [](int b) { return b == 1; })) {
    co_return std::nullopt;
  }
  std::optional<ReserveReply> refusal = co_await refusal_from_reading(request, routed.items);
  if (!refusal) refusals_.forget(request);  // it would sell: the scripts decide
  co_return refusal;
}

asio::awaitable<std::optional<ReserveReply>> ClusterStockGate::refusal_from_reading(const OrderRequest& request,
                                                                                    const Items& held) {
  // The home slot first, as begin would: a key with a record is the scripts' to answer. (No
  // abandoned marker to look for: the order id is new, and only a lost script sets one.)
  if (request.idempotency_key) {
    const std::string idem = ck::idempotency(request.user_id, *request.idempotency_key);
    const std::array<std::string_view, 2> exists{"EXISTS", idem};
    Reply marked = co_await redis_.command(exists);
    if (marked.type != Reply::Type::kInteger || marked.integer != 0) co_return std::nullopt;
  }
  // Then each product slot in the order the takes run, its rules as cluster_take.lua checks
  // them (the order's total is checked after every take, so not here).
  const std::vector<ck::SlotGroup> groups = ck::group_by_slot(product_ids(held));  // (named: GCC 12)
  for (const ck::SlotGroup& g : groups) {
    std::vector<std::string> sale_names;
    std::vector<long long> quantities;
    for (std::size_t i : g.positions) {
      sale_names.push_back(held[i].first);
      quantities.push_back(held[i].second);
    }
    const std::vector<std::vector<std::string>> no_markers;
    const RulesReading reading(no_markers, sale_names, request.user_id);
    const auto commands = reading.commands();
    Reply exec = co_await redis_.transaction(commands);
    std::optional<RulesReading::Read> read = reading.parse(exec, quantities);
    if (!read) co_return std::nullopt;
    std::optional<ReserveReply> refusal = first_refusal(read->items, read->now_ms, /*order_total=*/false);
    if (refusal) {
      refusal->item = g.positions[refusal->item];  // the order's item, not the group's
      co_return refusal;
    }
  }
  co_return std::nullopt;
}

asio::awaitable<ReserveReply> ClusterStockGate::reserve_by_scripts(const Reservation& r) {
  const OrderRequest& request = *r.request;
  const std::string& id = r.order_id;
  const int partition = ck::partition_of(id);
  const std::string key = request.idempotency_key.value_or("");
  const std::string idem = key.empty() ? ck::no_idempotency(id) : ck::idempotency(request.user_id, key);
  // (No temporaries inside a co_await expression: GCC 12 destroys some twice.)
  const std::string idem_record = key.empty() ? std::string() : idem;
  if (!key.empty() && ck::partition_of_key(request.user_id, key) != partition) {
    throw std::logic_error("order id " + id + " is not in the partition of its Idempotency-Key");
  }
  const Items items = items_of(request);
  // Each product's bucket for this user; what the slots hold (and the recovery reads) names it.
  const Routed routed = co_await route(items, request.user_id);
  const Items& held = routed.items;
  const std::string items_text = ck::items_text(held);

  // 1. begin on the home slot.
  // (Named argument lists throughout: a braced list inside a co_await trips GCC 12.)
  const std::vector<std::string> begin_keys{idem, ck::abandoned(id), ck::transaction(id), ck::transactions(partition)};
  const std::vector<std::string> begin_args{key,
                                            r.fingerprint,
                                            id,
                                            std::to_string(settings_.outbox_lease.count()),
                                            std::to_string(settings_.idempotency_ttl.count()),
                                            request.user_id,
                                            items_text};
  Reply begun = co_await run(redis_, "cluster_begin", begin_keys, begin_args);
  if (out_of_memory(begun)) co_return ReserveReply{.kind = Kind::kOutOfMemory, .code = begun.str};
  checked(begun, "cluster_begin");
  const std::string begin_kind = begun.elements.empty() ? "" : begun.elements[0].str;
  if (begin_kind == "REPLAY" && begun.elements.size() >= 2) {
    co_return ReserveReply{.kind = Kind::kReplay, .order_json = std::move(begun.elements[1].str)};
  }
  if (begin_kind == "IN_PROGRESS") co_return ReserveReply{.kind = Kind::kInProgress};
  if (begin_kind == "KEY_REUSED") co_return ReserveReply{.kind = Kind::kKeyReused};
  if (begin_kind == "ABANDONED") co_return ReserveReply{.kind = Kind::kAbandoned};
  if (begin_kind != "BEGUN") throw std::runtime_error("cluster_begin: unexpected reply " + begin_kind);

  // 2. take on each product slot; anything but TAKEN everywhere undoes it all. A bucketed
  // product whose home bucket is short gets units from its other buckets and is taken again.
  const std::string window = settings_.default_payment_window.count() > 0
                                 ? std::to_string(settings_.default_payment_window.count())
                                 : "";
  std::vector<std::int64_t> prices(items.size(), 0);
  std::vector<std::optional<std::int64_t>> windows(items.size());
  std::optional<ReserveReply> refusal;
  std::vector<std::string> transfers;  // noted in the transaction record, settled on a failure
  std::exception_ptr failure;
  try {
    const std::vector<ck::SlotGroup> groups = ck::group_by_slot(product_ids(held));  // (named: see undo)
    for (const ck::SlotGroup& g : groups) {
      std::vector<std::string> keys{ck::part(g.first, id), ck::part_void(g.first, id)};
      std::vector<std::string> args{request.user_id, std::to_string(kPartTtlSeconds), window};
      for (std::size_t i : g.positions) {
        keys.push_back(catalog::keys::stock(held[i].first));
        keys.push_back(catalog::keys::info(held[i].first));
        keys.push_back(ordering::keys::buyers(held[i].first));
        args.push_back(items[i].first);
        args.push_back(std::to_string(items[i].second));
      }
      for (int refills = 0;; ++refills) {
        Reply taken = co_await run(redis_, "cluster_take", keys, args);
        if (out_of_memory(taken)) {
          refusal = ReserveReply{.kind = Kind::kOutOfMemory, .code = taken.str};
          break;
        }
        checked(taken, "cluster_take");
        auto& e = taken.elements;
        const std::string kind = e.empty() ? "" : e[0].str;
        auto at = [&](std::size_t n) { return n < e.size() ? text_of(e[n]) : std::string(); };
        // The script numbers the items of its group from 1; the intake wants the order's index.
        auto item = [&](std::size_t n) -> std::size_t {
          const std::size_t in_group = n < e.size() && e[n].type == Reply::Type::kInteger && e[n].integer >= 1
                                           ? e[n].integer - 1
                                           : 0;
          return in_group < g.positions.size() ? g.positions[in_group] : 0;
        };
        if (kind == "TAKEN" && e.size() == 1 + 2 * g.positions.size()) {
          for (std::size_t n = 0; n < g.positions.size(); ++n) {
            prices[g.positions[n]] = std::stoll(e[1 + 2 * n].str);
            if (!e[2 + 2 * n].str.empty()) windows[g.positions[n]] = std::stoll(e[2 + 2 * n].str);
          }
          break;
        }
        if (kind == "REFUSED" && at(1) == "OUT_OF_STOCK" && routed.buckets[item(2)] > 1) {
          const std::size_t i = item(2);
          if (refills == kMaxRefills) {
            spdlog::warn("order {}: product {} kept running short in bucket {} after {} refills; refused as busy", id,
                         items[i].first, held[i].first, kMaxRefills);
            refusal = ReserveReply{.kind = Kind::kRolledBack};
            break;
          }
          const int buckets = routed.buckets[i];
          const std::string transfer_id = id + "/" + std::to_string(i) + "/" + std::to_string(refills);
          const RefillResult next = co_await refill(id, items[i].first, buckets,
                                                    catalog::buckets::home_bucket(request.user_id, buckets),
                                                    items[i].second, transfer_id, transfers);
          if (next.next == Refill::kTakeAgain) continue;
          refusal = next.next == Refill::kRolledBack ? ReserveReply{.kind = Kind::kRolledBack}
                                                     : ReserveReply{.kind = Kind::kRefused,
                                                                    .code = "OUT_OF_STOCK",
                                                                    .item = i,
                                                                    .left = std::to_string(next.left)};
          break;
        }
        if (kind == "REFUSED") {
          refusal = ReserveReply{
              .kind = Kind::kRefused, .code = at(1), .item = item(2), .limit = at(3), .bought = at(4), .left = at(3)};
        } else if (kind == "INVALID") {
          refusal = ReserveReply{.kind = Kind::kInvalid, .code = at(1), .item = item(2)};
        } else if (kind == "VOID") {
          refusal = ReserveReply{.kind = Kind::kRolledBack};
        } else {
          throw std::runtime_error("cluster_take: unexpected reply " + kind);
        }
        break;
      }
      if (refusal) break;
    }
    if (!refusal) {
      std::int64_t total = 0;
      for (std::size_t i = 0; i < items.size(); ++i) total += prices[i] * items[i].second;
      if (total > kMaxTotalCents) refusal = ReserveReply{.kind = Kind::kInvalid, .code = "ORDER"};
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // A take whose reply was lost may have run: undo it all (idempotent), then report the loss;
    // the intake's abandon() finds no pending order and answers 503. A transfer cut short is
    // finished first, so its units are in the home bucket before the parts are undone.
    try {
      co_await settle(transfers);
      co_await undo(id, request.user_id, held, idem_record);
    } catch (const std::exception& e) {
      spdlog::warn("order {}: undoing its parts failed ({}); the recovery will", id, e.what());
    }
    std::rethrow_exception(failure);
  }
  if (refusal) {
    co_await undo(id, request.user_id, held, idem_record);
    co_return std::move(*refusal);
  }

  // 3. commit on the home slot, with the order as reserve.lua would have written it.
  std::int64_t total = 0;
  std::optional<std::int64_t> shortest;
  std::string order;
  JsonWriter w(order);
  w.begin_object().key("id").string(id).key("referenceNo").string(r.reference_no).key("userId").string(request.user_id);
  w.key("status").string("PENDING").key("items").begin_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::int64_t line = prices[i] * items[i].second;
    total += line;
    if (windows[i] && (!shortest || *windows[i] < *shortest)) shortest = windows[i];
    w.begin_object().key("productId").string(items[i].first).key("quantity").number(items[i].second);
    w.key("unitPrice").raw_number(Money{prices[i]}.to_decimal()).key("totalPrice").raw_number(Money{line}.to_decimal());
    w.end_object();
  }
  w.end_array().key("totalPrice").raw_number(Money{total}.to_decimal()).key("createdAt").string(r.created_at);
  w.key("expiresAt");
  if (shortest) w.string(format_rfc3339(r.created_ms + *shortest * 1000));
  else w.null();
  w.end_object();
  std::string event = r.event_head + "{\"order\":" + order + ",\"idempotencyKey\":";
  if (key.empty()) event += "null";
  else append_json_string(event, key);
  event += "}}";

  // From here a lost reply is the intake's to resolve (abandon() finds the order if it committed).
  const std::vector<std::string> commit_keys{idem,
                                             ck::order(id),
                                             ck::outbox(partition),
                                             ck::outbox_entry(id),
                                             ck::transaction(id),
                                             ck::transactions(partition)};
  const std::vector<std::string> commit_args{id,
                                             order,
                                             event,
                                             std::to_string(settings_.outbox_lease.count()),
                                             std::to_string(settings_.pending_order_ttl.count()),
                                             key,
                                             std::to_string(settings_.idempotency_ttl.count())};
  Reply committed = co_await run(redis_, "cluster_commit", commit_keys, commit_args);
  checked(committed, "cluster_commit");
  const std::string commit_kind = committed.elements.empty() ? "" : committed.elements[0].str;
  if (commit_kind == "ABORTED") {
    co_await undo(id, request.user_id, held, idem_record);
    co_return ReserveReply{.kind = Kind::kRolledBack};
  }
  if (commit_kind != "ACCEPTED" || committed.elements.size() < 2) {
    throw std::runtime_error("cluster_commit: unexpected reply " + commit_kind);
  }
  co_return ReserveReply{.kind = Kind::kAccepted,
                         .order_json = std::move(order),
                         .lease_deadline = text_of(committed.elements[1]),
                         .event = std::move(event)};
}

asio::awaitable<void> ClusterStockGate::confirm(const std::string& order_id) {
  const int partition = ck::partition_of(order_id);
  if (partition < 0) throw std::invalid_argument("outbox_confirm: not an order id: " + order_id);
  auto& batch = confirms_[static_cast<std::size_t>(partition)];
  if (!batch) {
    // Every id of a group is in this partition: one call on its slot confirms them all.
    batch = std::make_unique<ConfirmBatch>(
        [this, partition](const std::vector<std::string>& ids) -> asio::awaitable<void> {
          std::vector<std::string> confirm_keys{ck::outbox(partition)};
          for (const auto& id : ids) confirm_keys.push_back(ck::outbox_entry(id));
          constexpr std::string_view kScript = "outbox_confirm";
          Reply reply = co_await run(redis_, kScript, confirm_keys, ids);
          checked(reply, kScript);
        });
  }
  co_await batch->add(order_id);
}

asio::awaitable<bool> ClusterStockGate::release(const Reservation& r, const std::string& lease_deadline) {
  const OrderRequest& request = *r.request;
  const std::string& id = r.order_id;
  const int partition = ck::partition_of(id);
  const Items items = items_of(request);
  const Routed routed = co_await route(items, request.user_id);
  const std::vector<std::string> release_keys{ck::outbox(partition), ck::outbox_entry(id), ck::order(id),
                                              ck::transaction(id), ck::transactions(partition)};
  const std::vector<std::string> release_args{id, lease_deadline, request.user_id, ck::items_text(routed.items)};
  Reply released = co_await run(redis_, "cluster_release", release_keys, release_args);
  checked(released, "cluster_release");
  if (released.integer != 1) co_return false;
  co_await undo(id, request.user_id, routed.items, "");
  co_return true;
}

asio::awaitable<std::optional<std::string>> ClusterStockGate::abandon(const std::string& order_id) {
  const int partition = ck::partition_of(order_id);
  const std::vector<std::string> abandon_keys{ck::order(order_id), ck::abandoned(order_id), ck::transaction(order_id),
                                              ck::transactions(partition)};
  const std::vector<std::string> abandon_args{std::to_string(std::chrono::seconds(std::chrono::hours(1)).count()),
                                              order_id};
  Reply r = co_await run(redis_, "cluster_abandon", abandon_keys, abandon_args);
  if (r.type == Reply::Type::kString) co_return std::move(r.str);
  checked(r, "cluster_abandon");
  // Handed to the recovery (due now): undo its parts at once rather than at the next round.
  try {
    co_await recover_partition(partition, 10);
  } catch (const std::exception& e) {
    spdlog::warn("order {}: recovery after a lost reply failed ({}); the relay's next round retries", order_id,
                 e.what());
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<std::string>> ClusterStockGate::pending_order(const std::string& order_id) {
  const std::string key = ck::order(order_id);
  std::array<std::string_view, 2> get{"GET", key};
  Reply r = co_await redis_.command(get);
  if (r.type != Reply::Type::kString) co_return std::nullopt;
  co_return std::move(r.str);
}

asio::awaitable<void> ClusterStockGate::return_units(const OrderUnits& units) {
  const std::string ttl = std::to_string(ordering::keys::kReturnedMarkerTtlSeconds);
  // To the bucket the purchase took them from: the user's home bucket of each product.
  const Routed routed = co_await route(units.items, units.user_id);
  const std::vector<ck::SlotGroup> groups = ck::group_by_slot(product_ids(routed.items));  // (named: see undo)
  for (const ck::SlotGroup& g : groups) {
    std::vector<std::string> keys{ck::part_returned(g.first, units.order_id), ck::part(g.first, units.order_id),
                                  ck::part_void(g.first, units.order_id)};
    std::vector<std::string> args{units.user_id, ttl};
    add_counter_keys(routed.items, g, keys, args);
    Reply reply = co_await run(redis_, "cluster_return", keys, args);
    checked(reply, "cluster_return");
  }
  const std::string order_key = ck::order(units.order_id);
  std::array<std::string_view, 2> del{"DEL", order_key};
  Reply deleted = co_await redis_.command(del);
  checked(deleted, "DEL pending order");
}

asio::awaitable<std::vector<std::pair<std::string, std::string>>> ClusterStockGate::claim_due(long long lease_ms,
                                                                                              int batch) {
  std::vector<std::pair<std::string, std::string>> due;
  const std::string lease = std::to_string(lease_ms);
  for (int p = 0; p < ck::kHomePartitions && static_cast<int>(due.size()) < batch; ++p) {
    const std::vector<std::string> claim_keys{ck::outbox(p)};
    const std::vector<std::string> claim_args{ck::outbox_entry_prefix(p), lease,
                                              std::to_string(batch - static_cast<int>(due.size()))};
    Reply claimed = co_await run(redis_, "outbox_claim", claim_keys, claim_args);
    checked(claimed, "outbox_claim");
    for (std::size_t i = 0; i + 1 < claimed.elements.size(); i += 2) {
      due.emplace_back(std::move(claimed.elements[i].str), std::move(claimed.elements[i + 1].str));
    }
  }
  co_return due;
}

asio::awaitable<long long> ClusterStockGate::outbox_depth() {
  long long depth = 0;
  for (int p = 0; p < ck::kHomePartitions; ++p) {
    const std::string key = ck::outbox(p);
    std::array<std::string_view, 2> zcard{"ZCARD", key};
    depth += (co_await redis_.command(zcard)).integer;
  }
  co_return depth;
}

asio::awaitable<int> ClusterStockGate::recover_partition(int partition, int batch) {
  const std::vector<std::string> claim_keys{ck::transactions(partition)};
  const std::vector<std::string> claim_args{ck::transaction_prefix(partition), std::to_string(batch),
                                            std::to_string(kRecoveryLeaseMs)};
  Reply claimed = co_await run(redis_, "cluster_recover_claim", claim_keys, claim_args);
  checked(claimed, "cluster_recover_claim");
  int undone = 0;
  for (std::size_t i = 0; i + 4 < claimed.elements.size(); i += 5) {
    const std::string& id = claimed.elements[i].str;
    // Transfers into a home bucket first: units that left a bucket arrive before the parts go.
    const std::vector<std::string> transfers = split_list(claimed.elements[i + 4].str);
    co_await settle(transfers);
    // (Named: a temporary inside a co_await expression is destroyed twice by GCC 12, a double
    // free that corrupted the heap of an API whose recovery ran beside a sale.)
    const Items items = ck::parse_items_text(claimed.elements[i + 2].str);
    co_await undo(id, claimed.elements[i + 1].str, items, claimed.elements[i + 3].str);
    spdlog::info("order {}: its purchase stopped before the commit; its parts are undone", id);
    ++undone;
  }
  co_return undone;
}

asio::awaitable<int> ClusterStockGate::recover_due(int batch) {
  int undone = 0;
  for (int p = 0; p < ck::kHomePartitions; ++p) undone += co_await recover_partition(p, batch);
  co_return undone;
}

}  // namespace orders::ordering
