// persist_batch's decisions through its seam (FakeBatchRecord): which orders go in one
// transaction, which fail and why, which are dead-lettered, without PostgreSQL.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/dependency_error.hpp"
#include "ordering/order_event.hpp"
#include "support/fake_batch_record.hpp"
#include "worker/order_persister.hpp"

using namespace orders;
using namespace orders::worker;
using orders::test::FakeBatchRecord;
using Calls = std::vector<std::string>;

namespace {

constexpr const char* kShirt = "p-shirt";
constexpr const char* kMug = "p-mug";

ordering::Order order(std::string id, std::optional<std::string> key, std::vector<std::pair<std::string, int>> lines,
                      std::string user = "alice") {
  ordering::Order o;
  o.id = std::move(id);
  o.reference_no = "ORD-" + o.id;
  o.user_id = std::move(user);
  o.created_at = "2024-06-01T12:00:00Z";
  o.idempotency_key = std::move(key);
  for (auto& [product, quantity] : lines) o.items.push_back({.product_id = std::move(product), .quantity = quantity});
  return o;
}

std::vector<OrderOutcome> persist(FakeBatchRecord& record, const std::vector<ordering::Order>& batch) {
  std::vector<const ordering::Order*> orders;
  for (const auto& o : batch) orders.push_back(&o);
  return persist_batch(record, orders);
}

FakeBatchRecord stocked(int shirts = 10, int mugs = 10) {
  FakeBatchRecord record;
  record.stock = {{kShirt, shirts}, {kMug, mugs}};
  return record;
}

}  // namespace

TEST(OrderPersister, BatchGoesInOneTransaction) {
  FakeBatchRecord record = stocked();
  auto out = persist(record, {order("a", "k1", {{kShirt, 2}}), order("b", "k2", {{kShirt, 1}, {kMug, 3}}),
                              order("c", std::nullopt, {{kMug, 1}})});
  EXPECT_EQ(record.calls, (Calls{"keys_owned_in_record a b c", "insert_together a b c"}));
  for (const auto& o : out) {
    EXPECT_EQ(o.result, PersistResult::kPersisted);
    EXPECT_FALSE(o.gives_units_back());
  }
  EXPECT_EQ(record.stock[kShirt], 7);
  EXPECT_EQ(record.stock[kMug], 6);
}

TEST(OrderPersister, KeyOwnedByAnotherOrderInTheRecordFailsAsDuplicateKey) {
  FakeBatchRecord record = stocked();
  record.rows["x"] = {.user_id = "alice", .idempotency_key = "k1"};
  auto out = persist(record, {order("a", "k1", {{kShirt, 2}}), order("b", "k1", {{kShirt, 1}}, "bob")});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].result, PersistResult::kFailed);
  EXPECT_EQ(out[0].reason, "DUPLICATE_IDEMPOTENCY_KEY");
  EXPECT_TRUE(out[0].failed_in_record);
  EXPECT_TRUE(out[0].gives_units_back());
  EXPECT_EQ(out[1].result, PersistResult::kPersisted) << "another user's key is another key";
  EXPECT_EQ(record.calls, (Calls{"keys_owned_in_record a b", "insert_failed a DUPLICATE_IDEMPOTENCY_KEY with_items",
                                 "insert_together b"}));
  EXPECT_TRUE(record.rows["a"].failed);
  EXPECT_EQ(record.stock[kShirt], 9) << "a FAILED order takes no stock";
}

TEST(OrderPersister, TwoOrdersOfOneKeyTheFirstNowTheOthersNextRound) {
  FakeBatchRecord record = stocked();
  auto out = persist(record, {order("a", "k1", {{kShirt, 1}}), order("b", "k1", {{kShirt, 1}}),
                              order("c", std::nullopt, {{kMug, 1}}), order("d", "k1", {{kShirt, 1}})});
  EXPECT_EQ(record.calls, (Calls{"keys_owned_in_record a b c d", "insert_together a c", "keys_owned_in_record b d",
                                 "insert_failed b DUPLICATE_IDEMPOTENCY_KEY with_items",
                                 "insert_failed d DUPLICATE_IDEMPOTENCY_KEY with_items"}));
  EXPECT_EQ(out[0].result, PersistResult::kPersisted);
  EXPECT_EQ(out[1].result, PersistResult::kFailed);
  EXPECT_EQ(out[1].reason, "DUPLICATE_IDEMPOTENCY_KEY");
  EXPECT_EQ(out[2].result, PersistResult::kPersisted);
  EXPECT_EQ(out[3].result, PersistResult::kFailed);
  EXPECT_EQ(record.stock[kShirt], 9);
}

TEST(OrderPersister, KeyWhoseFirstOrderIsRejectedPassesToTheNextOverRounds) {
  FakeBatchRecord record = stocked();
  auto out = persist(
      record, {order("a", "k1", {{"p-gone", 1}}), order("b", "k1", {{kShirt, 1}}), order("c", "k1", {{kShirt, 1}})});
  EXPECT_EQ(record.count("keys_owned_in_record"), 3u) << "three rounds: a, then b, then c";
  EXPECT_EQ(out[0].result, PersistResult::kRejected);
  EXPECT_EQ(out[1].result, PersistResult::kPersisted) << "a left nothing in the record: b is the key's order";
  EXPECT_EQ(out[2].result, PersistResult::kFailed);
  EXPECT_EQ(out[2].reason, "DUPLICATE_IDEMPOTENCY_KEY");
  EXPECT_EQ(record.stock[kShirt], 9);
}

TEST(OrderPersister, SameOrderTwiceInABatchGoesInOnceInOneRound) {
  FakeBatchRecord record = stocked();
  auto out = persist(record, {order("a", "k1", {{kShirt, 2}}), order("a", "k1", {{kShirt, 2}})});
  EXPECT_EQ(record.count("keys_owned_in_record"), 1u) << "a republished copy is no second order of the key";
  EXPECT_EQ(out[0].result, PersistResult::kPersisted);
  EXPECT_EQ(out[1].result, PersistResult::kDuplicate);
  EXPECT_FALSE(out[1].gives_units_back());
  EXPECT_EQ(record.stock[kShirt], 8);
}

TEST(OrderPersister, GuardFailureRedoesTheSetOneOrderPerTransaction) {
  FakeBatchRecord record = stocked(5);
  auto out = persist(
      record, {order("a", "k1", {{kShirt, 2}}), order("b", "k2", {{kShirt, 4}}), order("c", "k3", {{kShirt, 1}})});
  EXPECT_EQ(record.calls, (Calls{"keys_owned_in_record a b c", "insert_together a b c", "insert_together a",
                                 "insert_together b", "products_exist b",
                                 "insert_failed b insufficient stock in the record with_items", "insert_together c"}));
  EXPECT_EQ(out[0].result, PersistResult::kPersisted);
  EXPECT_EQ(out[1].result, PersistResult::kFailed);
  EXPECT_EQ(out[1].reason, "insufficient stock in the record");
  EXPECT_TRUE(out[1].failed_in_record);
  EXPECT_TRUE(out[1].gives_units_back());
  EXPECT_EQ(out[2].result, PersistResult::kPersisted);
  EXPECT_EQ(record.stock[kShirt], 2);
}

TEST(OrderPersister, RowTheRecordRefusesIsStoredFailedWithItsItems) {
  FakeBatchRecord record = stocked();
  record.refuse_confirmed = {"a"};
  auto out = persist(record, {order("a", "k1", {{kShirt, 2}}), order("b", "k2", {{kShirt, 1}})});
  EXPECT_EQ(record.calls,
            (Calls{"keys_owned_in_record a b", "insert_together a b", "insert_together a", "products_exist a",
                   "insert_failed a REFUSED_BY_RECORD with_items", "insert_together b"}));
  EXPECT_EQ(out[0].result, PersistResult::kFailed);
  EXPECT_EQ(out[0].reason, "REFUSED_BY_RECORD");
  EXPECT_TRUE(out[0].gives_units_back());
  EXPECT_TRUE(record.rows["a"].with_items);
  EXPECT_EQ(out[1].result, PersistResult::kPersisted);
}

TEST(OrderPersister, RowRefusedWithItsItemsIsStoredBare) {
  FakeBatchRecord record = stocked();
  record.refuse_confirmed = {"a"};
  record.refuse_items = {"a"};
  auto out = persist(record, {order("a", "k1", {{kShirt, 2}})});
  EXPECT_EQ(record.calls,
            (Calls{"keys_owned_in_record a", "insert_together a", "insert_together a", "products_exist a",
                   "insert_failed a REFUSED_BY_RECORD with_items", "insert_failed a REFUSED_BY_RECORD bare"}));
  EXPECT_EQ(out[0].result, PersistResult::kFailed);
  EXPECT_EQ(out[0].reason, "REFUSED_BY_RECORD");
  EXPECT_TRUE(out[0].failed_in_record);
  ASSERT_TRUE(record.rows.count("a"));
  EXPECT_FALSE(record.rows["a"].with_items);
  EXPECT_FALSE(record.rows["a"].idempotency_key) << "a bare row goes without its key";
}

TEST(OrderPersister, RowRefusedEvenBareIsRejectedWithItsUnitsBack) {
  FakeBatchRecord record = stocked();
  record.refuse_confirmed = {"a"};
  record.refuse_items = {"a"};
  record.refuse_bare = {"a"};
  auto out = persist(record, {order("a", "k1", {{kShirt, 2}})});
  EXPECT_EQ(out[0].result, PersistResult::kRejected);
  EXPECT_EQ(out[0].reason, "the record refuses even a FAILED row: the record refuses FAILED order a");
  EXPECT_FALSE(out[0].failed_in_record);
  EXPECT_TRUE(out[0].return_units);
  EXPECT_TRUE(out[0].gives_units_back());
  EXPECT_FALSE(record.rows.count("a"));
}

TEST(OrderPersister, UnknownProductIsRejectedWithItsUnitsBack) {
  FakeBatchRecord record = stocked();
  auto out = persist(record, {order("a", "k1", {{kShirt, 1}, {"p-gone", 1}}), order("b", "k2", {{kShirt, 1}})});
  EXPECT_EQ(record.calls, (Calls{"keys_owned_in_record a b", "insert_together a b", "insert_together a",
                                 "products_exist a", "products_exist a", "insert_together b"}));
  EXPECT_EQ(out[0].result, PersistResult::kRejected);
  EXPECT_EQ(out[0].reason, "unknown product");
  EXPECT_TRUE(out[0].return_units);
  EXPECT_FALSE(out[0].failed_in_record);
  EXPECT_FALSE(record.rows.count("a"));
  EXPECT_EQ(out[1].result, PersistResult::kPersisted);
  EXPECT_EQ(record.stock[kShirt], 9);
}

TEST(OrderPersister, RefusedRowWithAnUnknownProductIsRejectedNotFailed) {
  FakeBatchRecord record = stocked();
  record.refuse_confirmed = {"a"};
  auto out = persist(record, {order("a", "k1", {{"p-gone", 1}})});
  EXPECT_EQ(out[0].result, PersistResult::kRejected);
  EXPECT_EQ(out[0].reason, "unknown product");
  EXPECT_EQ(record.count("insert_failed"), 0u);
}

TEST(OrderPersister, RedeliveryIsDuplicateAsItIsInTheRecord) {
  FakeBatchRecord record = stocked();
  record.rows["a"] = {.user_id = "alice", .idempotency_key = "k1"};
  record.rows["b"] = {.user_id = "alice", .idempotency_key = "k2", .failed = true, .reason = "REFUSED_BY_RECORD"};
  auto out = persist(
      record, {order("a", "k1", {{kShirt, 1}}), order("b", "k2", {{kShirt, 1}}), order("c", "k3", {{kShirt, 1}})});
  EXPECT_EQ(record.calls, (Calls{"keys_owned_in_record a b c", "insert_together a b c", "is_failed_in_record a",
                                 "is_failed_in_record b"}));
  EXPECT_EQ(out[0].result, PersistResult::kDuplicate);
  EXPECT_FALSE(out[0].failed_in_record);
  EXPECT_FALSE(out[0].gives_units_back());
  EXPECT_EQ(out[1].result, PersistResult::kDuplicate);
  EXPECT_TRUE(out[1].failed_in_record) << "a FAILED order's units go back (once, whoever asks)";
  EXPECT_EQ(out[2].result, PersistResult::kPersisted);
  EXPECT_EQ(record.stock[kShirt], 9);
}

TEST(OrderPersister, RedeliveryInTheOrderByOrderPassIsDuplicateToo) {
  FakeBatchRecord record = stocked(1);
  record.rows["a"] = {.user_id = "alice", .idempotency_key = "k1", .failed = true};
  auto out = persist(record, {order("a", "k1", {{kShirt, 5}}), order("b", "k2", {{kShirt, 2}})});
  EXPECT_EQ(out[0].result, PersistResult::kDuplicate);
  EXPECT_TRUE(out[0].failed_in_record);
  EXPECT_EQ(out[1].result, PersistResult::kFailed);
  EXPECT_EQ(out[1].reason, "insufficient stock in the record");
}

TEST(OrderPersister, FailedOrderAnotherWorkerStoredFirstIsDuplicate) {
  FakeBatchRecord record = stocked(1);
  record.before = [&record](const std::string& op, const std::string& id) {
    if (op == "insert_failed") record.rows[id] = {.user_id = "alice", .failed = true};
  };
  auto out = persist(record, {order("a", "k1", {{kShirt, 5}})});
  EXPECT_EQ(out[0].result, PersistResult::kDuplicate);
  EXPECT_TRUE(out[0].failed_in_record);
  EXPECT_EQ(record.calls.back(), "is_failed_in_record a");
}

// A batch that asks every operation of the record: a key owned in the record (insert_failed), a
// guard failure (products_exist), a redelivered FAILED order (is_failed_in_record).
class OrderPersisterOutage : public testing::TestWithParam<std::string> {
 protected:
  static FakeBatchRecord record() {
    FakeBatchRecord r = stocked(3);
    r.rows["x"] = {.user_id = "alice", .idempotency_key = "k1"};
    r.rows["d"] = {.user_id = "alice", .idempotency_key = "k4", .failed = true};
    return r;
  }
  const std::vector<ordering::Order> batch_{order("a", "k1", {{kShirt, 1}}), order("b", "k2", {{kShirt, 2}}),
                                            order("c", "k3", {{kShirt, 2}}), order("d", "k4", {{kShirt, 1}})};
};

TEST_P(OrderPersisterOutage, AsksTheOperationWhenTheRecordIsUp) {
  FakeBatchRecord r = record();
  persist(r, batch_);
  EXPECT_GT(r.count(GetParam()), 0u) << "the batch must reach " << GetParam();
}

TEST_P(OrderPersisterOutage, DependencyUnavailablePropagatesSoTheBatchIsHeld) {
  FakeBatchRecord r = record();
  r.unavailable_on = GetParam();
  EXPECT_THROW(persist(r, batch_), DependencyUnavailable);
}

INSTANTIATE_TEST_SUITE_P(Operations, OrderPersisterOutage,
                         testing::Values("keys_owned_in_record", "insert_together", "insert_failed", "products_exist",
                                         "is_failed_in_record"));
