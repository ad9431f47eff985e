// OrderLifecycle through its seams (FakeOrderLog, FakeStockGate): every answer the
// record can give to a cancel or a status change, and the races with a worker, without servers.
#include <gtest/gtest.h>

#include "common/dependency_error.hpp"
#include "common/error_codes.hpp"
#include "ordering/order_lifecycle.hpp"
#include "support/fake_order_log.hpp"
#include "support/fake_stock_gate.hpp"
#include "support/run_coroutine.hpp"

using namespace orders;
using namespace orders::ordering;
using orders::test::FakeOrderLog;
using orders::test::FakeStockGate;
using orders::test::run_coroutine;
using Kind = CancelRecord::Kind;

namespace {

constexpr const char* kId = "01a23493-caad-7440-b498-b99769bed29b";
constexpr const char* kProduct = "0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d";
// The pending copy as reserve.lua writes it.
const std::string kPending = std::string(R"({"id":")") + kId + R"(","referenceNo":"ORD-01","userId":"alice",)" +
                             R"("status":"PENDING","items":[{"productId":")" + kProduct +
                             R"(","quantity":2,"unitPrice":5.00,"totalPrice":10.00}],"totalPrice":10.00,)" +
                             R"("createdAt":"2026-12-02T10:00:00.000Z"})";

CancelRecord record(Kind kind, std::string status = "", std::vector<std::pair<std::string, long long>> items = {}) {
  CancelRecord r;
  r.kind = kind;
  r.status = std::move(status);
  r.units.user_id = "alice";
  r.units.items = std::move(items);
  return r;
}

struct Lifecycle {
  FakeOrderLog log;
  FakeStockGate stock;
  OrderLifecycle lifecycle{log, stock};

  OrderOutcome cancel() { return run_coroutine(lifecycle.cancel(kId)); }
  OrderOutcome change(OrderStatus to) { return run_coroutine(lifecycle.change_status(kId, to)); }
};

Problem problem_of(const OrderOutcome& o) {
  if (!std::holds_alternative<Problem>(o)) throw std::runtime_error("expected a refusal, got the order");
  return std::get<Problem>(o);
}

}  // namespace

TEST(OrderLifecycle, CancellingAConfirmedOrderReturnsItsUnitsAndMarksThem) {
  Lifecycle t;
  t.log.cancel_answers.push_back(record(Kind::kCancelled, "CONFIRMED", {{kProduct, 2}}));
  auto outcome = t.cancel();
  ASSERT_TRUE(std::holds_alternative<std::string>(outcome));
  ASSERT_EQ(t.stock.returned.size(), 1u);
  EXPECT_EQ(t.stock.returned[0].order_id, kId);
  EXPECT_EQ(t.stock.returned[0].items.at(0).second, 2);
  EXPECT_EQ(t.log.marked, std::vector<std::string>{kId});
}

TEST(OrderLifecycle, ATransitionTheTableForbidsIsRefusedAndChangesNothing) {
  Lifecycle t;
  t.log.cancel_answers.push_back(record(Kind::kRefused, "COMPLETED"));
  const Problem p = problem_of(t.cancel());
  EXPECT_EQ(p.code, codes::kInvalidTransition);
  EXPECT_EQ(p.message, "An order cannot go from COMPLETED to CANCELLED");
  EXPECT_EQ(p.details.at(0).message, "COMPLETED -> CANCELLED");
  EXPECT_TRUE(t.stock.returned.empty());
}

TEST(OrderLifecycle, ARepeatedCancelGivesBackOnlyWhatRedisNeverConfirmed) {
  {
    Lifecycle t;  // the earlier cancel's units are back: nothing more
    t.log.cancel_answers.push_back(record(Kind::kAlreadyCancelled, "CANCELLED"));
    EXPECT_EQ(problem_of(t.cancel()).code, codes::kAlreadyCancelled);
    EXPECT_TRUE(t.stock.returned.empty());
  }
  {
    Lifecycle t;  // the API died after COMMIT: the units are still owed
    t.log.cancel_answers.push_back(record(Kind::kAlreadyCancelled, "CANCELLED", {{kProduct, 1}}));
    EXPECT_EQ(problem_of(t.cancel()).code, codes::kAlreadyCancelled);
    EXPECT_EQ(t.stock.returned.size(), 1u);
    EXPECT_EQ(t.log.marked.size(), 1u);
  }
}

TEST(OrderLifecycle, DeadlocksAreTriedAgainAndGiveUpAfterFiveAttempts) {
  {
    Lifecycle t;
    t.log.cancel_answers = {record(Kind::kRetry), record(Kind::kRetry),
                            record(Kind::kCancelled, "CONFIRMED", {{kProduct, 1}})};
    EXPECT_TRUE(std::holds_alternative<std::string>(t.cancel()));
    EXPECT_EQ(t.log.cancels, 3);
  }
  {
    Lifecycle t;
    for (int i = 0; i < 6; ++i) t.log.cancel_answers.push_back(record(Kind::kRetry));
    EXPECT_THROW(t.cancel(), std::runtime_error);
    EXPECT_EQ(t.log.cancels, 5);
    EXPECT_TRUE(t.stock.returned.empty());
  }
}

TEST(OrderLifecycle, APendingOrderIsStoredCancelledWithItsUnitsFromThePendingCopy) {
  Lifecycle t;
  t.stock.pending = kPending;
  auto outcome = t.cancel();
  ASSERT_TRUE(std::holds_alternative<std::string>(outcome));
  ASSERT_EQ(t.log.stored.size(), 1u);
  EXPECT_EQ(t.log.stored[0].id, kId);
  ASSERT_EQ(t.stock.returned.size(), 1u);
  EXPECT_EQ(t.stock.returned[0].user_id, "alice");
  EXPECT_EQ(t.stock.returned[0].items.at(0), (std::pair<std::string, long long>{kProduct, 2}));
}

// A worker stored the order between the look at the record and the insert: the next attempt
// cancels the worker's row, and the units come from the record, once.
TEST(OrderLifecycle, AWorkerStoringTheOrderFirstMeansTheRecordsRowIsCancelled) {
  Lifecycle t;
  t.stock.pending = kPending;
  t.log.store_answers.push_back(false);
  t.log.cancel_answers = {record(Kind::kNotInRecord), record(Kind::kCancelled, "CONFIRMED", {{kProduct, 2}})};
  ASSERT_TRUE(std::holds_alternative<std::string>(t.cancel()));
  EXPECT_EQ(t.log.cancels, 2);
  EXPECT_EQ(t.stock.returned.size(), 1u);
}

TEST(OrderLifecycle, AnOrderNeitherInTheRecordNorPendingIsNotFoundAfterThreeLooks) {
  Lifecycle t;
  const Problem p = problem_of(t.cancel());
  EXPECT_EQ(p.kind, ProblemKind::kNotFound);
  EXPECT_EQ(p.message, "Order not found");
  EXPECT_EQ(t.log.cancels, 3);
}

TEST(OrderLifecycle, UnitsOwedWhileRedisIsDownStayOwedAndTheRepeatIsStillAConflict) {
  Lifecycle t;
  t.log.cancel_answers.push_back(record(Kind::kAlreadyCancelled, "CANCELLED", {{kProduct, 1}}));
  t.stock.return_fails = true;
  const Problem p = problem_of(t.cancel());
  EXPECT_EQ(p.code, codes::kAlreadyCancelled);
  EXPECT_TRUE(t.log.marked.empty()) << "not marked: the next DELETE or reconcile returns them";
}

TEST(OrderLifecycle, StatusChangesFollowTheRecordsAnswer) {
  {
    Lifecycle t;
    t.log.status_answers.push_back({StatusRecord::Kind::kChanged, "CONFIRMED"});
    ASSERT_TRUE(std::holds_alternative<std::string>(t.change(OrderStatus::kCompleted)));
  }
  {
    Lifecycle t;
    t.log.status_answers.push_back({StatusRecord::Kind::kRefused, "COMPLETED"});
    EXPECT_EQ(problem_of(t.change(OrderStatus::kPending)).message, "An order cannot go from COMPLETED to PENDING");
  }
  {
    Lifecycle t;  // pending in Redis: only a cancel may touch it
    t.stock.pending = kPending;
    EXPECT_EQ(problem_of(t.change(OrderStatus::kCompleted)).message, "An order cannot go from PENDING to COMPLETED");
  }
  {
    Lifecycle t;
    EXPECT_EQ(problem_of(t.change(OrderStatus::kCompleted)).kind, ProblemKind::kNotFound);
  }
  {
    Lifecycle t;  // CANCELLED through PUT is a cancel
    t.log.cancel_answers.push_back(record(Kind::kCancelled, "CONFIRMED", {{kProduct, 1}}));
    EXPECT_TRUE(std::holds_alternative<std::string>(t.change(OrderStatus::kCancelled)));
    EXPECT_TRUE(t.log.changes.empty());
    EXPECT_EQ(t.stock.returned.size(), 1u);
  }
}

// The pending copy with a payment deadline.
std::string pending_expiring_at(const std::string& expires_at) {
  std::string copy = kPending;
  copy.insert(copy.size() - 1, R"(,"expiresAt":")" + expires_at + "\"");
  return copy;
}

TEST(OrderLifecycle, APaymentFollowsTheRecordAndAnExpiredOrderIsOrderExpired) {
  {
    Lifecycle t;
    t.log.status_answers.push_back({StatusRecord::Kind::kChanged, "CONFIRMED"});
    ASSERT_TRUE(std::holds_alternative<std::string>(t.change(OrderStatus::kPaid)));
    EXPECT_EQ(t.log.changes, std::vector<OrderStatus>{OrderStatus::kPaid});
  }
  {
    Lifecycle t;  // past its deadline, swept or not yet
    t.log.status_answers.push_back({StatusRecord::Kind::kExpired, "CONFIRMED"});
    const Problem p = problem_of(t.change(OrderStatus::kPaid));
    EXPECT_EQ(p.code, codes::kOrderExpired);
    EXPECT_EQ(p.kind, ProblemKind::kConflict);
  }
  {
    Lifecycle t;  // the record says why the table alone does not
    t.log.status_answers.push_back({StatusRecord::Kind::kRefused, "CONFIRMED", "it needs a payment first"});
    EXPECT_EQ(problem_of(t.change(OrderStatus::kCompleted)).message,
              "An order cannot go from CONFIRMED to COMPLETED: it needs a payment first");
  }
}

TEST(OrderLifecycle, APendingOrderIsPaidByStoringItPaidOnceAndNotAfterItsDeadline) {
  {
    Lifecycle t;
    t.stock.pending = pending_expiring_at("2999-01-01T00:00:00.000Z");
    ASSERT_TRUE(std::holds_alternative<std::string>(t.change(OrderStatus::kPaid)));
    ASSERT_EQ(t.log.paid.size(), 1u);
    EXPECT_EQ(t.log.paid[0].id, kId);
    EXPECT_EQ(t.log.paid[0].expires_at, "2999-01-01T00:00:00.000Z");
  }
  {
    Lifecycle t;  // the deadline passed while it was queued: never stored as paid
    t.stock.pending = pending_expiring_at("2020-01-01T00:00:00.000Z");
    EXPECT_EQ(problem_of(t.change(OrderStatus::kPaid)).code, codes::kOrderExpired);
    EXPECT_TRUE(t.log.paid.empty());
  }
  {
    Lifecycle t;  // a worker stored it first: the payment goes to that row
    t.stock.pending = kPending;
    t.log.paid_answers.push_back(PaidStore::kExists);
    t.log.status_answers = {{StatusRecord::Kind::kNotInRecord, ""}, {StatusRecord::Kind::kChanged, "CONFIRMED"}};
    ASSERT_TRUE(std::holds_alternative<std::string>(t.change(OrderStatus::kPaid)));
    EXPECT_EQ(t.log.paid.size(), 1u);
    EXPECT_EQ(t.log.changes.size(), 2u);
  }
  {
    Lifecycle t;  // past its deadline by the record's clock, though not by the API's
    t.stock.pending = pending_expiring_at("2999-01-01T00:00:00.000Z");
    t.log.paid_answers.push_back(PaidStore::kExpired);
    EXPECT_EQ(problem_of(t.change(OrderStatus::kPaid)).code, codes::kOrderExpired);
  }
  {
    Lifecycle t;  // deadlocks are tried again, then the payer is told to retry: never a 404
    t.stock.pending = kPending;
    t.log.paid_answers = {PaidStore::kRetry, PaidStore::kStored};
    ASSERT_TRUE(std::holds_alternative<std::string>(t.change(OrderStatus::kPaid)));
    EXPECT_EQ(t.log.paid.size(), 2u);
  }
  {
    Lifecycle t;  // pending every time, a worker storing it first every time: 503, not 404
    t.stock.pending = kPending;
    t.log.paid_answers = {PaidStore::kExists, PaidStore::kExists, PaidStore::kExists};
    EXPECT_EQ(problem_of(t.change(OrderStatus::kPaid)).kind, ProblemKind::kUnavailable);
  }
  {
    Lifecycle t;  // the record cannot take it yet (its stock, its key): a worker decides first
    t.stock.pending = kPending;
    t.log.paid_answers.push_back(PaidStore::kCannot);
    EXPECT_EQ(problem_of(t.change(OrderStatus::kPaid)).kind, ProblemKind::kUnavailable);
  }
}
