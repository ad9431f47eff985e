// The holes a review and outside drills found in the purchase path (issue #11): repeated JSON
// members, an empty Idempotency-Key, refusals that were stored, totals the record cannot hold,
// a reservation whose reply was lost, Redis out of memory, and running out of descriptors.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/uuid.hpp"
#include "support/api_helpers.hpp"
#include "support/private_redis.hpp"
#include "support/process.hpp"

using namespace orders::testing;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string first_field(const HttpResult& r) {
  auto v = json_of(r);
  if (!v.as_object().contains("details") || v.at("details").as_array().empty()) return "";
  return std::string(v.at("details").as_array()[0].at("field").as_string());
}

std::string redis_on(std::uint16_t port, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"redis-cli", "-p", std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out = run(argv).output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class IntakeHardening : public SharedApiTest {
 protected:
  // The test stack keeps its data between runs: names of users and keys must be new each run.
  std::string fresh(const std::string& name) { return name + "-" + orders::uuid::make_v7().substr(24); }
  std::string product(int stock, const std::string& price = "19.99") {
    return create_product(port(),
                          R"({"name":"hardening","price":)" + price + R"(,"stock":)" + std::to_string(stock) + "}");
  }
};

}  // namespace

TEST_F(IntakeHardening, RepeatedMemberIsRefusedInEveryBodyNamingIt) {
  std::string id = product(5);
  auto order = http_request(
      port(), "POST", "/api/orders",
      R"({"userId":"dup-a","items":[{"productId":")" + id + R"(","quantity":1}],"userId":"dup-b"})");
  EXPECT_EQ(order.status, 400) << order.body;
  EXPECT_EQ(error_code_of(order), "VALIDATION_FAILED");
  EXPECT_EQ(first_field(order), "userId");
  auto item = http_request(port(), "POST", "/api/orders",
                           R"({"userId":"dup-c","items":[{"productId":")" + id + R"(","quantity":1,"quantity":5}]})");
  EXPECT_EQ(item.status, 400) << item.body;
  EXPECT_EQ(first_field(item), "items[0].quantity");
  auto created = http_request(port(), "POST", "/api/products", R"({"name":"x","price":1,"stock":1,"price":0})");
  EXPECT_EQ(created.status, 400) << created.body;
  EXPECT_EQ(first_field(created), "price");
  auto updated = http_request(port(), "PUT", "/api/products/" + id, R"({"stock":1,"stock":1000})");
  EXPECT_EQ(updated.status, 400) << updated.body;
  EXPECT_EQ(first_field(updated), "stock");
  auto category = http_request(port(), "POST", "/api/categories", R"({"name":"a","name":"b"})");
  EXPECT_EQ(category.status, 400) << category.body;
  EXPECT_EQ(first_field(category), "name");
  // Nothing was sold by the refused purchases.
  EXPECT_EQ(redis_get("{p:" + id + "}:stock"), "5");
}

TEST_F(IntakeHardening, EmptyIdempotencyKeyIs400NotNoKey) {
  std::string id = product(5);
  auto r = http_request(port(), "POST", "/api/orders", order_body("empty-key", {{id, 1}}), {{"Idempotency-Key", ""}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(first_field(r), "Idempotency-Key");
  EXPECT_EQ(redis_get("{p:" + id + "}:stock"), "5");
}

TEST_F(IntakeHardening, RefusalIsNotStoredAndARetryIsDecidedAfresh) {
  std::string id = product(1);
  const std::string user = fresh("refusal-user"), crowd = fresh("refusal-crowd");
  ASSERT_EQ(buy(port(), fresh("refusal-first"), id).status, 202);
  auto refused = buy(port(), user, id, 1, "refusal-key");
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(error_code_of(refused), "OUT_OF_STOCK");
  // A refusal costs Redis nothing: no idempotency record, for any of these refusals either.
  EXPECT_EQ(redis_cli({"EXISTS", "idem:" + user + ":refusal-key"}), "0");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(buy(port(), crowd, id, 1, "k" + std::to_string(i)).status, 409);
  EXPECT_EQ(redis_cli({"--scan", "--pattern", "idem:" + crowd + ":*"}), "");
  // A unit comes back (an admin adds stock): the same key now buys it.
  auto put = http_request(port(), "PUT", "/api/products/" + id, R"({"stock":1})");
  ASSERT_EQ(put.status, 200) << put.body;
  auto retried = buy(port(), user, id, 1, "refusal-key");
  EXPECT_EQ(retried.status, 202) << retried.body;
  EXPECT_EQ(retried.header("idempotent-replayed"), "");
  auto replay = buy(port(), user, id, 1, "refusal-key");
  EXPECT_EQ(replay.status, 202) << replay.body;
  EXPECT_EQ(replay.header("idempotent-replayed"), "true");
}

TEST_F(IntakeHardening, TotalTheRecordCannotHoldIs400NamingTheField) {
  // An order totals at most 999,999,999,999.99; one line of the dearest price (999,999,999.99)
  // times the most units (1000) still fits, two do not.
  std::string a = product(5000, "999999999.99");
  std::string b = product(5000, "999999999.99");
  auto both = http_request(port(), "POST", "/api/orders", order_body("overflow-a", {{a, 1000}, {b, 1000}}));
  EXPECT_EQ(both.status, 400) << both.body;
  EXPECT_EQ(error_code_of(both), "VALIDATION_FAILED");
  EXPECT_EQ(first_field(both), "items");
  // Nothing was reserved, and what fits is still sold.
  EXPECT_EQ(redis_get("{p:" + a + "}:stock"), "5000");
  auto fits = http_request(port(), "POST", "/api/orders", order_body("overflow-c", {{a, 1000}}));
  EXPECT_EQ(fits.status, 202) << fits.body;
  EXPECT_EQ(json_of(fits).at("data").at("totalPrice").as_double(), 999999999990.0);
}

// Redis stops answering while reservations are in flight; the API's watchdog drops the
// connection after 2 s, and Redis, resumed, runs what it had already received. Each buyer's
// answer must match what happened: a 503 only when nothing was reserved, a 202 for every
// reservation that ran.
TEST(IntakeLostReply, AnswerMatchesWhetherTheReservationRan) {
  PrivateRedis redis;
  ApiProcess api({}, {{"REDIS_URL", redis.url()}});
  std::string id = create_product(api.port(), R"({"name":"lost-reply","price":5,"stock":100})");
  Process worker({required_env("ORDERS_BINARY"), "worker"}, {{"REDIS_URL", redis.url()}});

  // One purchase first, so the API has loaded the script and the stalled ones are EVALSHAs.
  const std::string run_id = orders::uuid::make_v7().substr(24);
  ASSERT_EQ(buy(api.port(), "lost-warm-" + run_id, id).status, 202);
  constexpr int kBuyers = 12;
  std::mutex mutex;
  std::map<std::string, int> status_of;  // user -> status
  redis.signal(SIGSTOP);
  std::thread resume([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2300));
    redis.signal(SIGCONT);
  });
  concurrently(kBuyers, [&](int i) {
    const std::string user = "lost-" + std::to_string(i) + "-" + run_id;
    int status = 0;
    try {
      status = buy(api.port(), user, id, 1, "lost-key").status;
    } catch (const std::exception&) {
      status = -1;
    }
    std::lock_guard lock(mutex);
    status_of[user] = status;
  });
  resume.join();
  redis.signal(SIGCONT);

  int accepted = 0;
  for (const auto& [user, status] : status_of) {
    EXPECT_TRUE(status == 202 || status == 503) << user << " got " << status;
    accepted += status == 202;
  }
  std::cout << "lost replies: " << accepted << " of " << kBuyers << " answered 202, the rest 503\n";
  // Every 202 reaches PostgreSQL; then wait out the relay's lease (5 s) and one more sweep, so
  // an order the API gave up but that had been reserved would have been published by now.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  auto persisted = [&] {
    return std::stoi(psql(
        "SELECT count(*) FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.product_id = '" + id + "'"));
  };
  while (persisted() < accepted + 1 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::this_thread::sleep_for(std::chrono::seconds(8));
  for (const auto& [user, status] : status_of) {
    const std::string in_record = psql("SELECT count(*) FROM orders WHERE user_id = '" + user + "'");
    EXPECT_EQ(in_record, status == 202 ? "1" : "0") << user << " was answered " << status;
  }
  EXPECT_EQ(persisted(), accepted + 1);
  EXPECT_EQ(redis_on(redis.port(), {"GET", "{p:" + id + "}:stock"}), std::to_string(99 - accepted));
  EXPECT_EQ(redis_on(redis.port(), {"ZCARD", "outbox"}), "0");
  worker.signal(SIGTERM);
  worker.wait(std::chrono::seconds(10));
}

// G6: Redis runs with maxmemory and noeviction; a purchase Redis refuses for memory is a 503
// with Retry-After, and nothing of it stays behind.
TEST(IntakeOutOfMemory, PurchaseIs503AndWritesNothingThenSellsOnceMemoryIsBack) {
  PrivateRedis redis({"--maxmemory", "8mb", "--maxmemory-policy", "noeviction"});
  ApiProcess api({}, {{"REDIS_URL", redis.url()}});
  std::string id = create_product(api.port(), R"({"name":"oom","price":5,"stock":10})");
  std::string sold_out = create_product(api.port(), R"({"name":"oom-sold-out","price":5,"stock":0})");
  // One script may go past maxmemory once it has written (Redis cannot stop it halfway).
  ASSERT_EQ(redis_on(redis.port(), {"EVAL",
                                    "for i = 1, 200 do redis.call('SET', 'filler:' .. i, string.rep('x', 100000)) end "
                                    "return 1",
                                    "0"}),
            "1");
  const std::string keys_before = redis_on(redis.port(), {"DBSIZE"});

  const std::string user = "oom-" + orders::uuid::make_v7().substr(24);
  auto refused = buy(api.port(), user, id, 1, "oom-key");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "2");
  EXPECT_NE(json_of(refused).at("error").as_string().find("out of memory"), std::string::npos) << refused.body;
  EXPECT_EQ(redis_on(redis.port(), {"GET", "{p:" + id + "}:stock"}), "10");
  EXPECT_EQ(redis_on(redis.port(), {"DBSIZE"}), keys_before);
  // A product read that misses the cache is served from PostgreSQL; Redis refuses only the fill.
  auto read = http_get(api.port(), "/api/products/" + id);
  EXPECT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.header("x-cache"), "MISS");
  // A refusal writes nothing, so it is still answered while Redis is full.
  EXPECT_EQ(buy(api.port(), user, sold_out, 1, "oom-key-2").status, 409);

  redis_on(redis.port(), {"EVAL", "for i = 1, 200 do redis.call('DEL', 'filler:' .. i) end return 1", "0"});
  auto accepted = buy(api.port(), user, id, 1, "oom-key");
  EXPECT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_EQ(redis_on(redis.port(), {"GET", "{p:" + id + "}:stock"}), "9");
}

// G6: the API raises its descriptor limit, caps connections below it and sheds the rest with
// 503, so a flood cannot starve the descriptors its dependencies need.
TEST(IntakeDescriptors, ConnectionsAreCappedBelowTheDescriptorLimitAndTheRestShed) {
  const std::uint16_t port = free_port();
  Process api({"prlimit", "--nofile=200:200", required_env("ORDERS_BINARY"), "api", "--port", std::to_string(port),
               "--max-connections", "10000"});
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  bool up = false;
  while (!up && Clock::now() < deadline && api.running()) {
    try {
      up = http_get(port, "/health").status == 200;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_TRUE(up) << api.output();
  EXPECT_NE(api.output().find("max connections lowered from 10000"), std::string::npos) << api.output();

  // More clients than descriptors: the ones over the cap must get a 503 answer, not hang in
  // the backlog while the accept loop fails with EMFILE.
  constexpr int kClients = 250;
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      continue;
    }
    timeval wait{.tv_sec = 0, .tv_usec = 20'000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    fds.push_back(fd);
  }
  int shed = 0;
  const auto read_until = Clock::now() + std::chrono::seconds(20);
  std::vector<bool> answered(fds.size(), false);
  while (Clock::now() < read_until && shed < kClients - 200) {
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (answered[i]) continue;
      char buffer[512];
      ssize_t n = ::recv(fds[i], buffer, sizeof buffer, 0);
      if (n > 0 && std::string(buffer, static_cast<std::size_t>(n)).find(" 503 ") != std::string::npos) {
        answered[i] = true;
        ++shed;
      }
    }
  }
  for (int fd : fds) ::close(fd);
  EXPECT_GE(shed, kClients - 200) << "connections over the descriptor limit were not shed";
  // Once the flood is gone the API serves again, dependencies included.
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    try {
      ready = http_get(port, "/ready").status == 200;
    } catch (const std::exception&) {
    }
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(ready) << api.output();
  EXPECT_TRUE(api.running());
  api.signal(SIGTERM);
  api.wait(std::chrono::seconds(15));
}

// outbox_confirm.lua marks the idempotency record done; a record that expired meanwhile must
// not come back as a hash without a TTL (it would hold the key for ever).
TEST(OutboxConfirmScript, DoesNotRecreateAnExpiredIdempotencyRecord) {
  std::ifstream in(required_env("ORDERS_SOURCE_DIR") + "/src/ordering/lua/outbox_confirm.lua");
  std::stringstream source;
  source << in.rdbuf();
  const std::string id = orders::uuid::make_v7();
  const std::string entry = "outbox-test:" + id, outbox = "outbox-test-set:" + id;
  const std::string live = "idem-test:live:" + id, gone = "idem-test:gone:" + id;
  redis_cli({"ZADD", outbox, "1", id});
  redis_cli({"HSET", entry, "event", "{}", "idem", gone});
  EXPECT_EQ(redis_cli({"EVAL", source.str(), "2", outbox, entry, id}), "1");
  EXPECT_EQ(redis_cli({"EXISTS", gone}), "0");
  // A record that is still there is marked done and keeps its TTL.
  redis_cli({"HSET", live, "state", "reserved"});
  redis_cli({"EXPIRE", live, "600"});
  redis_cli({"ZADD", outbox, "1", id});
  redis_cli({"HSET", entry, "event", "{}", "idem", live});
  EXPECT_EQ(redis_cli({"EVAL", source.str(), "2", outbox, entry, id}), "1");
  EXPECT_EQ(redis_cli({"HGET", live, "state"}), "done");
  EXPECT_GT(std::stoi(redis_cli({"TTL", live})), 0);
  redis_cli({"DEL", live, outbox, entry});
}

// The API confirms a group of orders in one call: every entry goes, every live record is done,
// and an id confirmed already (by the relay, say) counts 0.
TEST(OutboxConfirmScript, ConfirmsAGroupInOneCall) {
  std::ifstream in(required_env("ORDERS_SOURCE_DIR") + "/src/ordering/lua/outbox_confirm.lua");
  std::stringstream source;
  source << in.rdbuf();
  const std::string outbox = "outbox-test-set:" + orders::uuid::make_v7();
  std::vector<std::string> ids, entries, records;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(orders::uuid::make_v7());
    entries.push_back("outbox-test:" + ids.back());
    records.push_back("idem-test:" + ids.back());
    redis_cli({"HSET", records.back(), "state", "reserved"});
    redis_cli({"EXPIRE", records.back(), "600"});
    redis_cli({"HSET", entries.back(), "event", "{}", "idem", records.back()});
    if (i != 1) redis_cli({"ZADD", outbox, "1", ids.back()});  // the second was confirmed already
  }
  EXPECT_EQ(redis_cli({"EVAL", source.str(), "4", outbox, entries[0], entries[1], entries[2], ids[0], ids[1], ids[2]}),
            "2");
  EXPECT_EQ(redis_cli({"ZCARD", outbox}), "0");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(redis_cli({"EXISTS", entries[i]}), "0") << i;
    EXPECT_EQ(redis_cli({"HGET", records[i], "state"}), "done") << i;
    redis_cli({"DEL", records[i]});
  }
}
