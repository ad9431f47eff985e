// OrderIntake through its seams (FakeStockGate, FakeEventBus): every reply of the reservation
// and every outcome of the publish, without Redis or RabbitMQ.
#include <gtest/gtest.h>

#include "common/error_codes.hpp"
#include "common/uuid.hpp"
#include "ordering/order_event.hpp"
#include "ordering/order_intake.hpp"
#include "ordering/outbox_relay.hpp"
#include "support/fake_stock_gate.hpp"
#include "support/run_coroutine.hpp"

using namespace orders;
using namespace orders::ordering;
using orders::test::FakeEventBus;
using orders::test::FakeStockGate;
using orders::test::run_coroutine;
using rabbitmq::PublishOutcome;
using Kind = ReserveReply::Kind;

namespace {

constexpr const char* kProduct = "0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d";
constexpr const char* kOrder =
    R"({"id":"01a23493-caad-7440-b498-b99769bed29b","referenceNo":"ORD-X","userId":"alice","status":"PENDING"})";

OrderRequest request(std::int64_t quantity = 2) {
  return OrderRequest{.user_id = "alice", .items = {{kProduct, quantity}}, .idempotency_key = std::string("k1")};
}

ReserveReply accepted_reply() {
  return ReserveReply{.kind = Kind::kAccepted, .order_json = kOrder, .lease_deadline = "123", .event = "{}"};
}

struct Intake {
  FakeStockGate stock;
  FakeEventBus events;
  IntakeSettings settings{.outbox_lease = std::chrono::milliseconds(1300)};
  OrderIntake intake{stock, events, settings};

  PurchaseOutcome buy(const OrderRequest& r) { return run_coroutine(intake.purchase(r)); }
};

Problem problem_of(const PurchaseOutcome& o) {
  if (!std::holds_alternative<Problem>(o)) throw std::runtime_error("expected a refusal, got an accepted order");
  return std::get<Problem>(o);
}

}  // namespace

TEST(OrderIntake, ReservationCarriesFreshIdsTheReferenceAndTheEventHead) {
  Intake t;
  t.stock.reserve_replies.push_back(accepted_reply());
  auto r = request();
  auto outcome = t.buy(r);
  ASSERT_TRUE(std::holds_alternative<Accepted>(outcome));
  ASSERT_EQ(t.stock.reserved.size(), 1u);
  const Reservation& made = t.stock.reserved[0];
  EXPECT_TRUE(uuid::is_valid(made.order_id));
  EXPECT_EQ(made.reference_no, reference_number(made.order_id));
  EXPECT_EQ(made.fingerprint, fingerprint(r));
  ASSERT_EQ(t.events.published.size(), 1u);
  const rabbitmq::Message& m = t.events.published[0];
  EXPECT_EQ(m.exchange, "orders");
  EXPECT_EQ(m.routing_key, "order.created");
  EXPECT_EQ(made.event_head, order_created_head(m.message_id, made.created_at)) << "the event id is the message id";
  const Accepted& a = std::get<Accepted>(outcome);
  EXPECT_EQ(a.order_id, made.order_id);
  EXPECT_EQ(a.order_json, kOrder);
  EXPECT_FALSE(a.replayed);
}

// The sold-out path: a refusal the gate knows from a reading is the answer; nothing is
// reserved or published. A reading that failed leaves it to the reservation.
TEST(OrderIntake, ARefusalTheGateKnowsIsAnsweredWithoutReserving) {
  Intake t;
  t.stock.known = ReserveReply{.kind = Kind::kRefused, .code = "OUT_OF_STOCK", .item = 0, .left = "0"};
  auto refused = problem_of(t.buy(request()));
  EXPECT_EQ(refused.code, "OUT_OF_STOCK");
  EXPECT_EQ(t.stock.known_asked, 1);
  EXPECT_TRUE(t.stock.reserved.empty());
  EXPECT_TRUE(t.events.published.empty());

  Intake failing;
  failing.stock.known_fails = true;
  failing.stock.reserve_replies.push_back(accepted_reply());
  EXPECT_TRUE(std::holds_alternative<Accepted>(failing.buy(request())));
  EXPECT_EQ(failing.stock.reserved.size(), 1u);
}

TEST(OrderIntake, ConfirmedPublishConfirmsTheOutboxEntry) {
  Intake t;
  t.stock.reserve_replies.push_back(accepted_reply());
  auto outcome = t.buy(request());
  ASSERT_TRUE(std::holds_alternative<Accepted>(outcome));
  ASSERT_EQ(t.stock.confirmed.size(), 1u);
  EXPECT_EQ(t.stock.confirmed[0], std::get<Accepted>(outcome).order_id);
  EXPECT_TRUE(t.stock.released.empty());
}

// Sent, not confirmed: the broker may have it, so the order stands and stays in the outbox for
// the relay; nothing is confirmed and nothing released.
TEST(OrderIntake, SentButUnconfirmedPublishesStayInTheOutboxAndAreAccepted) {
  for (auto outcome : {PublishOutcome::kNacked, PublishOutcome::kTimedOut, PublishOutcome::kConnectionLost}) {
    Intake t;
    t.events.outcome = outcome;
    t.stock.reserve_replies.push_back(accepted_reply());
    EXPECT_TRUE(std::holds_alternative<Accepted>(t.buy(request()))) << rabbitmq::to_string(outcome);
    EXPECT_TRUE(t.stock.confirmed.empty()) << rabbitmq::to_string(outcome);
    EXPECT_TRUE(t.stock.released.empty()) << rabbitmq::to_string(outcome);
  }
}

// Never sent: the reservation is undone and the buyer told to come back, unless the relay took
// the entry first (then the relay publishes it and the purchase stands).
TEST(OrderIntake, NeverSentPublishesAreReleasedUnlessTheRelayTookThem) {
  for (auto outcome : {PublishOutcome::kNotSent, PublishOutcome::kOverloaded, PublishOutcome::kStopped}) {
    for (bool undone : {true, false}) {
      Intake t;
      t.events.outcome = outcome;
      t.stock.release_undoes = undone;
      t.stock.reserve_replies.push_back(accepted_reply());
      auto result = t.buy(request());
      EXPECT_EQ(t.stock.released.size(), 1u) << rabbitmq::to_string(outcome);
      EXPECT_TRUE(t.stock.confirmed.empty());
      if (undone) {
        const Problem p = problem_of(result);
        EXPECT_EQ(p.kind, ProblemKind::kUnavailable);
        EXPECT_EQ(p.message, "RabbitMQ is unavailable");
      } else {
        EXPECT_TRUE(std::holds_alternative<Accepted>(result)) << rabbitmq::to_string(outcome);
      }
    }
  }
}

TEST(OrderIntake, ReplayAnswersTheEarlierOrderAndPublishesNothing) {
  Intake t;
  t.stock.reserve_replies.push_back(ReserveReply{.kind = Kind::kReplay, .order_json = kOrder});
  auto outcome = t.buy(request());
  ASSERT_TRUE(std::holds_alternative<Accepted>(outcome));
  const Accepted& a = std::get<Accepted>(outcome);
  EXPECT_TRUE(a.replayed);
  EXPECT_EQ(a.order_id, "01a23493-caad-7440-b498-b99769bed29b") << "read from the stored order";
  EXPECT_EQ(a.order_json, kOrder);
  EXPECT_TRUE(t.events.published.empty());
}

TEST(OrderIntake, RefusalsNameTheItemAndTheProductAndPublishNothing) {
  struct Case {
    ReserveReply reply;
    ProblemKind kind;
    std::string message;
  };
  const std::string p = kProduct;
  std::vector<Case> cases = {
      {{.kind = Kind::kRefused, .code = "PRODUCT_NOT_FOUND"},
       ProblemKind::kNotFound,
       "Product " + p + " does not exist or is not on sale"},
      {{.kind = Kind::kRefused, .code = "SALE_NOT_ACTIVE"},
       ProblemKind::kConflict,
       "The sale of product " + p + " is not open now"},
      {{.kind = Kind::kRefused, .code = "PURCHASE_LIMIT_EXCEEDED", .limit = "2", .bought = "1"},
       ProblemKind::kConflict,
       "At most 2 units of product " + p + " per user; this user already has 1"},
      {{.kind = Kind::kRefused, .code = "OUT_OF_STOCK", .left = "1"},
       ProblemKind::kConflict,
       "Product " + p + " has 1 units left, 2 requested"},
  };
  for (const auto& c : cases) {
    Intake t;
    t.stock.reserve_replies.push_back(c.reply);
    const Problem problem = problem_of(t.buy(request(2)));
    EXPECT_EQ(problem.code, c.reply.code);
    EXPECT_EQ(problem.kind, c.kind) << c.reply.code;
    EXPECT_EQ(problem.message, c.message);
    ASSERT_EQ(problem.details.size(), 1u);
    EXPECT_EQ(problem.details[0].field, "items[0].productId");
    EXPECT_EQ(problem.details[0].product_id, p);
    EXPECT_TRUE(t.events.published.empty());
  }
}

TEST(OrderIntake, TotalsTheRecordCannotHoldAreInvalidNamingTheField) {
  Intake t;
  t.stock.reserve_replies.push_back(ReserveReply{.kind = Kind::kInvalid, .code = "LINE", .item = 0});
  const Problem line = problem_of(t.buy(request()));
  EXPECT_EQ(line.kind, ProblemKind::kInvalid);
  EXPECT_EQ(line.code, codes::kValidationFailed);
  EXPECT_EQ(line.details.at(0).field, "items[0].quantity");
  t.stock.reserve_replies.push_back(ReserveReply{.kind = Kind::kInvalid, .code = "ORDER"});
  EXPECT_EQ(problem_of(t.buy(request())).details.at(0).field, "items");
}

TEST(OrderIntake, KeyInProgressReusedOrRedisOutOfMemoryAreRefusedWithTheirCodes) {
  Intake t;
  t.stock.reserve_replies.push_back(ReserveReply{.kind = Kind::kInProgress});
  t.stock.reserve_replies.push_back(ReserveReply{.kind = Kind::kKeyReused});
  t.stock.reserve_replies.push_back(ReserveReply{.kind = Kind::kOutOfMemory});
  const Problem in_progress = problem_of(t.buy(request()));
  EXPECT_EQ(in_progress.code, codes::kRequestInProgress);
  EXPECT_EQ(in_progress.kind, ProblemKind::kConflict);
  const Problem reused = problem_of(t.buy(request()));
  EXPECT_EQ(reused.code, codes::kIdempotencyKeyReused);
  EXPECT_EQ(reused.kind, ProblemKind::kUnprocessable);
  EXPECT_EQ(reused.details.at(0).field, "Idempotency-Key");
  const Problem oom = problem_of(t.buy(request()));
  EXPECT_EQ(oom.kind, ProblemKind::kUnavailable);
  EXPECT_EQ(oom.message, "Redis is out of memory (maxmemory); nothing was reserved");
  EXPECT_TRUE(t.events.published.empty());
}

TEST(OrderIntake, NotConnectedSendsNothing) {
  Intake t;
  t.stock.is_connected = false;
  EXPECT_THROW(t.buy(request()), DependencyUnavailable);
  EXPECT_TRUE(t.stock.reserved.empty());
}

// The reply was lost with the script in flight: the abandon step decides, and the answer
// matches what Redis holds.
TEST(OrderIntake, LostReplyIsAcceptedWhenTheReservationRanAndUnavailableWhenItDidNot) {
  {
    Intake t;
    t.stock.reserve_replies.push_back(std::nullopt);
    t.stock.abandon_answers.push_back({.lost = false, .pending = std::string(kOrder)});
    auto outcome = t.buy(request());
    ASSERT_TRUE(std::holds_alternative<Accepted>(outcome));
    EXPECT_EQ(std::get<Accepted>(outcome).order_id, t.stock.reserved.at(0).order_id);
    EXPECT_TRUE(t.events.published.empty()) << "the relay publishes it once the lease ends";
  }
  {
    Intake t;
    t.stock.reserve_replies.push_back(std::nullopt);
    t.stock.abandon_answers.push_back({.lost = true});
    t.stock.abandon_answers.push_back({.lost = false, .pending = std::nullopt});
    const Problem p = problem_of(t.buy(request()));
    EXPECT_EQ(p.message, "Redis is unavailable");
    EXPECT_EQ(t.stock.abandoned.size(), 2u) << "tried again while Redis was down";
  }
}

TEST(OrderIntake, LostReplyThatRedisNeverAnswersIsAnUnknownOutcome) {
  Intake t;  // outbox lease 1300 ms: the intake decides within 300 ms
  t.stock.reserve_replies.push_back(std::nullopt);
  const Problem p = problem_of(t.buy(request()));
  EXPECT_EQ(p.kind, ProblemKind::kUnavailable);
  EXPECT_NE(p.message.find("may or may not have been accepted"), std::string::npos) << p.message;
  EXPECT_GE(t.stock.abandoned.size(), 1u);
}

TEST(OutboxRelay, PublishesWhatIsDueAndConfirmsOnlyWhatTheBrokerTook) {
  for (auto outcome : {PublishOutcome::kConfirmed, PublishOutcome::kTimedOut}) {
    FakeStockGate stock;
    FakeEventBus events;
    events.outcome = outcome;
    stock.due = {{"o1", R"({"id":"01a23493-caad-7440-b498-b99769bed29b","type":"order.created"})"}};
    boost::asio::io_context io;
    OutboxRelay relay(io.get_executor(), stock, events);
    run_coroutine(relay.sweep());
    ASSERT_EQ(events.published.size(), 1u);
    EXPECT_EQ(events.published[0].message_id, "01a23493-caad-7440-b498-b99769bed29b");
    EXPECT_EQ(stock.confirmed.size(), outcome == PublishOutcome::kConfirmed ? 1u : 0u);
  }
}
