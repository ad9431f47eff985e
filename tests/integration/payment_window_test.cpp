// The payment window (SPEC sections 4-7, G7) against real servers: orders not PAID by their
// expiresAt become EXPIRED within seconds, their units come back exactly once and sell again,
// a payment and the expiry racing at the deadline never both win, and the lifecycle events of
// the record's outbox reach the broker whatever process died after the commit. Windows of 1-3 s
// keep the tests short; every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "common/time.hpp"
#include "support/amqp_queue.hpp"
#include "support/api_helpers.hpp"
#include "support/own_stack.hpp"
#include "support/process.hpp"

using namespace orders::testing;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

// A worker consumes (and its sweeper runs) once it says so: the tests' windows of 1-3 s start
// counting only after that, so a slow start on a busy machine cannot expire an order early.
std::unique_ptr<Process> consuming_worker(std::vector<std::string> argv) {
  auto worker = std::make_unique<Process>(std::move(argv));
  EXPECT_TRUE(eventually([&] { return worker->output().find("worker consuming") != std::string::npos; }))
      << worker->output();
  return worker;
}

// An API and `workers` workers on a database of their own (the shared test Redis and broker).
struct Sale {
  MigratedDatabase db;
  std::unique_ptr<ApiProcess> api;
  std::vector<std::unique_ptr<Process>> workers;

  explicit Sale(int workers_count = 1, std::vector<std::string> worker_args = {}) {
    clear_order_queues();
    api = std::make_unique<ApiProcess>(std::vector<std::string>{"--database-url", db.url});
    for (int i = 0; i < workers_count; ++i) start_worker(worker_args);
  }
  void start_worker(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{required_env("ORDERS_BINARY"), "worker", "--database-url", db.url};
    argv.insert(argv.end(), extra.begin(), extra.end());
    workers.push_back(consuming_worker(std::move(argv)));
  }
  std::uint16_t port() const { return api->port(); }
  std::string status(const std::string& order) const {
    return db.query("SELECT status FROM orders WHERE id = '" + order + "'");
  }
  HttpResult set_status(const std::string& order, const std::string& status) const {
    return http_request(port(), "PUT", "/api/orders/" + order + "/status", R"({"status":")" + status + "\"}");
  }
  long long count(const std::string& sql) const { return std::stoll(db.query(sql)); }
};

std::string order_id_of(const HttpResult& r) { return std::string(json_of(r).at("data").at("id").as_string()); }

std::string product_with_window(std::uint16_t port, long long stock, int window, const std::string& extra = "") {
  return create_product(port, R"({"name":"Drop","price":10.00,"stock":)" + std::to_string(stock) +
                                  R"(,"paymentWindowSeconds":)" + std::to_string(window) + extra + "}");
}

}  // namespace

TEST(PaymentWindow, UnpaidOrdersExpireWithinSecondsTheirUnitsSellAgainAndPaidOnesNeverExpire) {
  Sale s;
  TestQueue events("order.*");
  const std::string product = product_with_window(s.port(), 4, 2, R"(,"maxPerUser":1)");
  std::vector<std::string> orders;
  for (int i = 0; i < 4; ++i) {
    auto bought = buy(s.port(), "u" + std::to_string(i), product);
    ASSERT_EQ(bought.status, 202) << bought.body;
    const json::value body = json_of(bought);
    const auto& data = body.at("data").as_object();
    auto created = orders::parse_rfc3339(data.at("createdAt").as_string());
    auto expires = orders::parse_rfc3339(data.at("expiresAt").as_string());
    ASSERT_TRUE(created && expires) << bought.body;
    EXPECT_EQ(*expires - *created, 2000) << bought.body;
    orders.push_back(order_id_of(bought));
  }
  EXPECT_EQ(error_code_of(buy(s.port(), "late", product)), "OUT_OF_STOCK");
  ASSERT_TRUE(eventually([&] { return s.count("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'") == 4; }));
  // GET shows the deadline the record holds.
  auto read = http_get(s.port(), "/api/orders/" + orders[0]);
  EXPECT_NE(json_of(read).at("data").at("expiresAt"), nullptr) << read.body;
  // Two pay in time; the two others do not.
  for (int i = 0; i < 2; ++i) {
    auto paid = s.set_status(orders[i], "PAID");
    ASSERT_EQ(paid.status, 200) << paid.body;
    EXPECT_EQ(json_of(paid).at("data").at("status"), "PAID");
  }
  ASSERT_TRUE(eventually([&] { return s.status(orders[2]) == "EXPIRED" && s.status(orders[3]) == "EXPIRED"; },
                         std::chrono::seconds(15)));
  // Within 5 s of the deadline.
  EXPECT_EQ(
      s.count("SELECT count(*) FROM orders WHERE status = 'EXPIRED' AND updated_at - expires_at < interval '5 s'"), 2);
  // Their units are back, once: Redis, PostgreSQL, the ledger, the buyers' counts.
  ASSERT_TRUE(eventually([&] { return redis_get("{p:" + product + "}:stock") == "2"; }, std::chrono::seconds(10)));
  EXPECT_EQ(s.db.query("SELECT stock FROM products WHERE id = '" + product + "'"), "2");
  EXPECT_EQ(s.db.query("SELECT sum(delta) FROM inventory_movements WHERE reason = 'EXPIRED'"), "2");
  EXPECT_EQ(s.count("SELECT count(*) FROM order_events WHERE event_type = 'EXPIRED'"), 2);
  EXPECT_EQ(redis_cli({"HGET", "{p:" + product + "}:buyers", "u2"}), "");
  // Lists filter by the new statuses.
  auto listed = http_get(s.port(), "/api/orders?status=EXPIRED&userId=u2");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(json_of(listed).at("pagination").at("total"), 1) << listed.body;
  EXPECT_EQ(http_get(s.port(), "/api/orders?status=PAID").status, 200);
  // Paying after the deadline is refused; the unit sells to the next buyer at once.
  auto too_late = s.set_status(orders[2], "PAID");
  EXPECT_EQ(too_late.status, 409) << too_late.body;
  EXPECT_EQ(error_code_of(too_late), "ORDER_EXPIRED");
  EXPECT_EQ(buy(s.port(), "second-wave-1", product).status, 202);
  EXPECT_EQ(buy(s.port(), "second-wave-2", product).status, 202);
  EXPECT_EQ(error_code_of(buy(s.port(), "second-wave-3", product)), "OUT_OF_STOCK");
  // The paid ones stay paid past their deadline, and only a paid order completes.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(s.status(orders[0]), "PAID");
  EXPECT_EQ(s.set_status(orders[0], "COMPLETED").status, 200);
  // The events of the outbox, each with its event id as message_id.
  auto received = events.drain(1500);
  std::map<std::string, int> by_type;
  std::set<std::string> message_ids;
  for (const auto& m : received) {
    auto body = json::parse(m.body).as_object();
    const auto& data = body.at("data").as_object();
    // The broker is shared: only this sale's status events count.
    const auto* order = data.if_contains("orderId");
    if (!order || std::find(orders.begin(), orders.end(), order->as_string()) == orders.end()) continue;
    if (m.routing_key == "order.confirmed") continue;  // the workers', not the outbox's
    EXPECT_EQ(m.message_id, body.at("id").as_string()) << m.body;
    message_ids.insert(m.message_id);
    if (m.routing_key == "order.status_changed") by_type[std::string(data.at("toStatus").as_string())]++;
    else by_type[m.routing_key]++;
  }
  EXPECT_EQ(by_type["PAID"], 2);
  EXPECT_EQ(by_type["COMPLETED"], 1);
  EXPECT_EQ(by_type["order.expired"], 2);
  EXPECT_EQ(message_ids.size(), 5u) << "a repeat with the same message_id";
  ASSERT_TRUE(eventually([&] { return s.count("SELECT count(*) FROM event_outbox") == 0; }));
}

// PAYMENT_WINDOW_SECONDS (--payment-window) gives products that set none a window; a product's
// own is kept, and the smallest of an order's items wins. The sweeper counts what it expired.
TEST(PaymentWindow, TheServiceDefaultAppliesToProductsWithoutAWindowAndTheSmallestWins) {
  clear_order_queues();
  MigratedDatabase db;
  ApiProcess api({"--database-url", db.url}, {{"PAYMENT_WINDOW_SECONDS", "2"}});
  const std::uint16_t metrics_port = free_port();
  Process worker({required_env("ORDERS_BINARY"), "worker", "--database-url", db.url, "--metrics-port",
                  std::to_string(metrics_port)});
  const std::string plain = create_product(api.port(), R"({"name":"Plain","price":1,"stock":5})");
  const std::string long_window = product_with_window(api.port(), 5, 600);
  auto window_of = [](const HttpResult& r) {
    const json::value body = json_of(r);
    const auto& data = body.at("data").as_object();
    return *orders::parse_rfc3339(data.at("expiresAt").as_string()) -
           *orders::parse_rfc3339(data.at("createdAt").as_string());
  };
  auto defaulted = buy(api.port(), "d1", plain);
  ASSERT_EQ(defaulted.status, 202) << defaulted.body;
  EXPECT_EQ(window_of(defaulted), 2000);
  auto own = buy(api.port(), "d2", long_window);
  ASSERT_EQ(own.status, 202) << own.body;
  EXPECT_EQ(window_of(own), 600'000);
  auto both = http_request(api.port(), "POST", "/api/orders", order_body("d3", {{plain, 1}, {long_window, 1}}));
  ASSERT_EQ(both.status, 202) << both.body;
  EXPECT_EQ(window_of(both), 2000);
  // Both orders of the default window expire; the sweeper's counter says so.
  ASSERT_TRUE(
      eventually([&] { return metric_value(metrics_port, "orders_expired_total") >= 2; }, std::chrono::seconds(15)));
  EXPECT_EQ(db.query("SELECT count(*) FROM orders WHERE status = 'EXPIRED'"), "2");
  // Their order.expired events left the outbox; its gauge says what still waits.
  ASSERT_TRUE(eventually([&] { return db.query("SELECT count(*) FROM event_outbox") == "0"; }));
  const std::string metrics = http_get(metrics_port, "/metrics").body;
  EXPECT_NE(metrics.find("orders_event_outbox_pending"), std::string::npos) << metrics;
  EXPECT_GE(metric_value(metrics_port, "orders_event_outbox_relayed_total"), 2);
  EXPECT_EQ(db.query("SELECT status FROM orders WHERE id = '" + order_id_of(own) + "'"), "CONFIRMED");
}

TEST(PaymentWindow, ABuyerWhoseOrderExpiredCanBuyAgainUpToTheLimit) {
  Sale s;
  const std::string product = product_with_window(s.port(), 10, 1, R"(,"maxPerUser":2)");
  auto first = buy(s.port(), "limited", product, 2);
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(error_code_of(buy(s.port(), "limited", product)), "PURCHASE_LIMIT_EXCEEDED");
  ASSERT_TRUE(eventually([&] { return s.status(order_id_of(first)) == "EXPIRED"; }, std::chrono::seconds(15)));
  ASSERT_TRUE(eventually(
      [&] {
        return redis_cli({"HGET", "{p:" + product + "}:buyers", "limited"}).empty();
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(buy(s.port(), "limited", product, 2).status, 202);
  EXPECT_EQ(error_code_of(buy(s.port(), "limited", product)), "PURCHASE_LIMIT_EXCEEDED");
}

// 200 orders, each paid at its deadline +- 50 ms while two workers sweep every 50 ms: each ends
// PAID (the payment answered 200) or EXPIRED (it answered ORDER_EXPIRED), never both, and the
// stock adds up exactly.
TEST(PaymentWindow, PaymentsRacingTheDeadlineWithTwoSweepersNeverBothPayAndExpire) {
  constexpr int kOrders = 200;
  Sale s(2, {"--sweep-interval-ms", "50"});
  const std::string product = product_with_window(s.port(), kOrders, 3);
  std::vector<std::string> ids(kOrders);
  std::vector<orders::EpochMs> deadlines(kOrders);
  concurrently(8, [&](int t) {
    for (int i = t; i < kOrders; i += 8) {
      auto bought = buy(s.port(), "racer" + std::to_string(i), product);
      ASSERT_EQ(bought.status, 202) << bought.body;
      ids[i] = order_id_of(bought);
      deadlines[i] = *orders::parse_rfc3339(json_of(bought).at("data").at("expiresAt").as_string());
    }
  });
  ASSERT_TRUE(eventually([&] { return s.count("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'") == kOrders; }));
  // Each payment at its deadline plus an offset in [-50, 50] ms.
  std::vector<int> order_of_payment(kOrders);
  std::vector<orders::EpochMs> when(kOrders);
  std::mt19937 random(20261202);
  std::uniform_int_distribution<int> offset(-50, 50);
  for (int i = 0; i < kOrders; ++i) {
    order_of_payment[i] = i;
    when[i] = deadlines[i] + offset(random);
  }
  std::sort(order_of_payment.begin(), order_of_payment.end(), [&](int a, int b) { return when[a] < when[b]; });
  std::vector<int> answer(kOrders, 0);
  std::vector<std::string> code(kOrders);
  concurrently(16, [&](int t) {
    for (int n = t; n < kOrders; n += 16) {
      const int i = order_of_payment[n];
      const auto wait = when[i] - orders::now_ms();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::milliseconds(wait));
      auto paid = s.set_status(ids[i], "PAID");
      answer[i] = paid.status;
      code[i] = error_code_of(paid);
    }
  });
  ASSERT_TRUE(eventually([&] { return s.count("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'") == 0; },
                         std::chrono::seconds(20)));
  int paid = 0, expired = 0;
  for (int i = 0; i < kOrders; ++i) {
    const std::string status = s.status(ids[i]);
    if (answer[i] == 200) {
      ++paid;
      EXPECT_EQ(status, "PAID") << ids[i];
    } else {
      ++expired;
      EXPECT_EQ(answer[i], 409) << ids[i];
      EXPECT_EQ(code[i], "ORDER_EXPIRED") << ids[i];
      EXPECT_EQ(status, "EXPIRED") << ids[i];
    }
  }
  EXPECT_EQ(paid + expired, kOrders);
  EXPECT_EQ(s.count("SELECT count(*) FROM orders o WHERE EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id"
                    " AND e.to_status = 'PAID') AND EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id"
                    " AND e.to_status = 'EXPIRED')"),
            0);
  EXPECT_EQ(s.count("SELECT stock FROM products WHERE id = '" + product + "'"), expired);
  EXPECT_EQ(s.count("SELECT COALESCE(sum(delta), 0) FROM inventory_movements WHERE reason = 'EXPIRED'"), expired);
  ASSERT_TRUE(eventually([&] { return redis_get("{p:" + product + "}:stock") == std::to_string(expired); },
                         std::chrono::seconds(10)));
  std::printf("[ racing   ] %d paid, %d expired\n", paid, expired);
}

// No worker runs through the deadline: the orders wait in the queue (a payment of one of them
// is stored straight as PAID); once a worker persists them, the unpaid ones expire, once.
TEST(PaymentWindow, OrdersQueuedThroughTheirDeadlineExpireOnceWhenWorkersReturn) {
  Sale s(0);
  const std::string product = product_with_window(s.port(), 5, 1);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto bought = buy(s.port(), "queued" + std::to_string(i), product);
    ASSERT_EQ(bought.status, 202) << bought.body;
    ids.push_back(order_id_of(bought));
  }
  auto paid = s.set_status(ids[0], "PAID");  // pending: no worker has it yet
  ASSERT_EQ(paid.status, 200) << paid.body;
  EXPECT_EQ(json_of(paid).at("data").at("status"), "PAID");
  EXPECT_EQ(s.set_status(ids[0], "PAID").status, 409) << "paid twice";
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_EQ(error_code_of(s.set_status(ids[1], "PAID")), "ORDER_EXPIRED");
  s.start_worker();
  ASSERT_TRUE(eventually([&] { return s.status(ids[1]) == "EXPIRED" && s.status(ids[2]) == "EXPIRED"; },
                         std::chrono::seconds(20)));
  ASSERT_TRUE(eventually([&] { return redis_get("{p:" + product + "}:stock") == "4"; }, std::chrono::seconds(10)));
  EXPECT_EQ(s.status(ids[0]), "PAID");
  // The payment was applied once: its stock taken once, its trail CREATED then PAID.
  EXPECT_EQ(
      s.db.query("SELECT string_agg(event_type, ',' ORDER BY id) FROM order_events WHERE order_id = '" + ids[0] + "'"),
      "CREATED,PAID");
  EXPECT_EQ(s.db.query("SELECT stock FROM products WHERE id = '" + product + "'"), "4");
  // A second worker later changes nothing: expired once.
  s.workers.clear();
  s.start_worker();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(s.count("SELECT count(*) FROM inventory_movements WHERE reason = 'EXPIRED'"), 2);
  EXPECT_EQ(s.count("SELECT count(*) FROM order_events WHERE event_type = 'EXPIRED'"), 2);
  EXPECT_EQ(redis_get("{p:" + product + "}:stock"), "4");
  EXPECT_EQ(s.db.query("SELECT stock FROM products WHERE id = '" + product + "'"), "4");
}

// The sweeper commits the expiry, Redis never runs the return (stopped, then killed), and the
// worker is SIGKILLed: the restarted worker's sweeper returns the units once, and neither
// reconcile --fix nor a lost flag returns them again.
TEST(PaymentWindow, ASweeperKilledBetweenItsCommitAndRedisReturnsTheUnitsOnceAfterRestart) {
  clear_order_queues();
  MigratedDatabase db;
  StoppableRedis redis;
  std::vector<std::string> api_args{"--database-url", db.url};
  std::vector<std::string> worker_argv{required_env("ORDERS_BINARY"), "worker", "--database-url", db.url};
  std::vector<std::string> reconcile_argv{required_env("ORDERS_BINARY"), "reconcile", "--fix", "--database-url",
                                          db.url};
  for (const auto& a : redis.args()) {
    api_args.push_back(a);
    worker_argv.push_back(a);
    reconcile_argv.push_back(a);
  }
  ApiProcess api(api_args);
  auto worker = consuming_worker(worker_argv);
  // 3 s: the order is CONFIRMED and Redis stopped well before the sweeper expires it.
  const std::string product = product_with_window(api.port(), 10, 3, R"(,"maxPerUser":5)");
  auto bought = buy(api.port(), "u1", product, 3);
  ASSERT_EQ(bought.status, 202) << bought.body;
  const std::string order = order_id_of(bought);
  auto status = [&] { return db.query("SELECT status FROM orders WHERE id = '" + order + "'"); };
  ASSERT_TRUE(eventually([&] { return status() == "CONFIRMED"; }));
  ASSERT_EQ(redis.cli({"GET", "{p:" + product + "}:stock"}), "7");
  redis.stop_signal();
  ASSERT_TRUE(eventually([&] { return status() == "EXPIRED"; }, std::chrono::seconds(15)));
  worker->signal(SIGKILL);
  worker->wait(std::chrono::seconds(5));
  redis.kill();
  redis.start();
  ASSERT_EQ(redis.cli({"GET", "{p:" + product + "}:stock"}), "7") << "the return ran after all: no fault";
  ASSERT_EQ(db.query("SELECT units_returned_at IS NULL FROM orders WHERE id = '" + order + "'"), "t");
  EXPECT_EQ(db.query("SELECT stock FROM products WHERE id = '" + product + "'"), "10");
  worker = std::make_unique<Process>(worker_argv);
  ASSERT_TRUE(eventually([&] { return redis.cli({"GET", "{p:" + product + "}:stock"}) == "10"; }));
  EXPECT_EQ(redis.cli({"HGET", "{p:" + product + "}:buyers", "u1"}), "");
  ASSERT_TRUE(eventually(
      [&] { return db.query("SELECT units_returned_at IS NOT NULL FROM orders WHERE id = '" + order + "'") == "t"; }));
  // Once: reconcile --fix gives nothing more, nor does a sweep after the flag was lost.
  clear_order_queues(false);
  auto fixed = run(reconcile_argv);
  EXPECT_EQ(fixed.code, 0) << fixed.output;
  EXPECT_EQ(redis.cli({"GET", "{p:" + product + "}:stock"}), "10") << "returned twice";
  db.query("UPDATE orders SET units_returned_at = NULL WHERE id = '" + order + "'");
  ASSERT_TRUE(eventually(
      [&] { return db.query("SELECT units_returned_at IS NOT NULL FROM orders WHERE id = '" + order + "'") == "t"; }));
  EXPECT_EQ(redis.cli({"GET", "{p:" + product + "}:stock"}), "10") << "returned twice";
}

// reconcile reports an unpaid order more than a minute past its deadline that no sweeper
// expired as drift, and --fix expires it as the sweeper would.
TEST(PaymentWindow, ReconcileReportsAnOverdueUnexpiredOrderAndFixExpiresIt) {
  Sale s;
  const std::string product = product_with_window(s.port(), 5, 60);
  auto bought = buy(s.port(), "overdue", product, 2);
  ASSERT_EQ(bought.status, 202) << bought.body;
  const std::string order = order_id_of(bought);
  ASSERT_TRUE(eventually([&] { return s.status(order) == "CONFIRMED"; }));
  s.workers.clear();  // no sweeper any more
  s.db.query("UPDATE orders SET expires_at = now() - interval '2 minutes' WHERE id = '" + order + "'");
  clear_order_queues(false);
  auto report = run({required_env("ORDERS_BINARY"), "reconcile", "--database-url", s.db.url, "--redis-url",
                     required_env("REDIS_URL")});
  EXPECT_EQ(report.code, 1) << report.output;
  EXPECT_NE(report.output.find("overdue: 1 unpaid orders"), std::string::npos) << report.output;
  auto fixed = run({required_env("ORDERS_BINARY"), "reconcile", "--fix", "--database-url", s.db.url, "--redis-url",
                    required_env("REDIS_URL")});
  EXPECT_EQ(fixed.code, 0) << fixed.output;
  EXPECT_NE(fixed.output.find("1 unpaid orders past their payment deadline expired"), std::string::npos)
      << fixed.output;
  EXPECT_EQ(s.status(order), "EXPIRED");
  EXPECT_EQ(redis_get("{p:" + product + "}:stock"), "5");
  auto clean = run({required_env("ORDERS_BINARY"), "reconcile", "--database-url", s.db.url, "--redis-url",
                    required_env("REDIS_URL")});
  EXPECT_EQ(clean.code, 0) << clean.output;
}

// A status change commits its event into the record's outbox; the API that committed it is
// SIGKILLed at once and no worker runs: the event waits there, and reaches the broker when a
// worker starts.
TEST(LifecycleEvents, EventsCommittedWhileNoWorkerRunsArePublishedWhenOneStartsEvenAfterTheApiDied) {
  Sale s;
  TestQueue events("order.*");
  const std::string product = create_product(s.port(), R"({"name":"Plain","price":3,"stock":10})");
  auto a = buy(s.port(), "ev1", product);
  auto b = buy(s.port(), "ev2", product);
  ASSERT_EQ(a.status, 202);
  ASSERT_EQ(b.status, 202);
  ASSERT_TRUE(eventually([&] { return s.count("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'") == 2; }));
  events.drain(500);  // order.confirmed of both
  s.workers.front()->signal(SIGKILL);
  s.workers.front()->wait(std::chrono::seconds(5));
  s.workers.clear();
  EXPECT_EQ(s.set_status(order_id_of(a), "COMPLETED").status, 200);  // no window: CONFIRMED -> COMPLETED
  EXPECT_EQ(http_request(s.port(), "DELETE", "/api/orders/" + order_id_of(b)).status, 200);
  s.api->process().signal(SIGKILL);
  EXPECT_EQ(s.count("SELECT count(*) FROM event_outbox"), 2);
  EXPECT_TRUE(events.drain(700).empty()) << "published without a relay";
  s.start_worker();
  ASSERT_TRUE(eventually([&] { return s.count("SELECT count(*) FROM event_outbox") == 0; }));
  auto received = events.drain(1000);
  std::set<std::string> kinds;
  for (const auto& m : received) {
    if (m.routing_key == "order.created" || m.routing_key == "order.confirmed") continue;  // of the purchases
    kinds.insert(m.routing_key + " " + std::string(json::parse(m.body).at("data").at("toStatus").as_string()));
    EXPECT_FALSE(m.message_id.empty());
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"order.status_changed COMPLETED", "order.cancelled CANCELLED"}));
}
