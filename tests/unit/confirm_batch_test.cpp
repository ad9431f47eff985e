#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "ordering/confirm_batch.hpp"

namespace asio = boost::asio;
using orders::ordering::ConfirmBatch;

namespace {

// The calls a batch made, each one's ids; a call takes `delay` (a round trip to Redis).
struct RecordedCalls {
  std::vector<std::vector<std::string>> calls;
  std::chrono::milliseconds delay{0};
  bool fail = false;

  ConfirmBatch::Flush flush() {
    return [this](const std::vector<std::string>& ids) -> asio::awaitable<void> {
      calls.push_back(ids);
      if (delay.count() > 0) {
        asio::steady_timer t(co_await asio::this_coro::executor, delay);
        co_await t.async_wait(asio::use_awaitable);
      }
      if (fail) throw std::runtime_error("Redis said no");
    };
  }
};

// Starts `count` confirms (ids prefix0..) on `io`; each records whether it returned or threw.
void start_confirms(asio::io_context& io, ConfirmBatch& batch, const std::string& prefix, int count,
                    std::vector<std::string>& outcomes) {
  for (int i = 0; i < count; ++i) {
    std::string id = prefix + std::to_string(i);
    asio::co_spawn(
        io,
        [&batch, &outcomes, id]() -> asio::awaitable<void> {
          std::string outcome = id + ":ok";
          try {
            co_await batch.add(id);
          } catch (const std::exception& e) {
            outcome = id + ":" + e.what();
          }
          outcomes.push_back(outcome);
        },
        asio::detached);
  }
}

}  // namespace

TEST(ConfirmBatch, ConfirmsArrivingTogetherLeaveAsOneCall) {
  asio::io_context io;
  RecordedCalls redis;
  ConfirmBatch batch(redis.flush());
  std::vector<std::string> outcomes;
  start_confirms(io, batch, "order-", 10, outcomes);
  io.run();
  ASSERT_EQ(redis.calls.size(), 1u);
  EXPECT_EQ(redis.calls[0].size(), 10u);
  EXPECT_EQ(redis.calls[0].front(), "order-0");
  EXPECT_EQ(redis.calls[0].back(), "order-9");
  EXPECT_EQ(outcomes.size(), 10u);  // every caller returned, after its call
  for (const auto& o : outcomes) EXPECT_NE(o.find(":ok"), std::string::npos) << o;
}

TEST(ConfirmBatch, ALoneConfirmGoesAtOnceAndThoseArrivingMeanwhileGoNextTogether) {
  asio::io_context io;
  RecordedCalls redis;
  redis.delay = std::chrono::milliseconds(30);
  ConfirmBatch batch(redis.flush());
  std::vector<std::string> outcomes;
  start_confirms(io, batch, "first-", 1, outcomes);
  // Arrive while the first call is out: they wait for it, then go as one call.
  asio::steady_timer later(io, std::chrono::milliseconds(10));
  later.async_wait([&](auto) { start_confirms(io, batch, "then-", 5, outcomes); });
  io.run();
  ASSERT_EQ(redis.calls.size(), 2u);
  EXPECT_EQ(redis.calls[0], std::vector<std::string>{"first-0"});
  EXPECT_EQ(redis.calls[1].size(), 5u);
  EXPECT_EQ(outcomes.size(), 6u);
  EXPECT_EQ(batch.calls(), 2u);
}

TEST(ConfirmBatch, AGroupIsCappedAndTheRestGoesInTheNextCall) {
  asio::io_context io;
  RecordedCalls redis;
  ConfirmBatch batch(redis.flush(), 4);
  std::vector<std::string> outcomes;
  start_confirms(io, batch, "order-", 10, outcomes);
  io.run();
  ASSERT_EQ(redis.calls.size(), 3u);
  EXPECT_EQ(redis.calls[0].size(), 4u);
  EXPECT_EQ(redis.calls[1].size(), 4u);
  EXPECT_EQ(redis.calls[2].size(), 2u);
  EXPECT_EQ(outcomes.size(), 10u);
}

TEST(ConfirmBatch, AFailedCallFailsEveryConfirmOfItsGroupAndTheNextGroupStillGoes) {
  asio::io_context io;
  RecordedCalls redis;
  redis.fail = true;
  ConfirmBatch batch(redis.flush());
  std::vector<std::string> outcomes;
  start_confirms(io, batch, "order-", 3, outcomes);
  io.run();
  ASSERT_EQ(outcomes.size(), 3u);
  for (const auto& o : outcomes) EXPECT_NE(o.find(":Redis said no"), std::string::npos) << o;

  redis.fail = false;
  outcomes.clear();
  io.restart();
  start_confirms(io, batch, "again-", 2, outcomes);
  io.run();
  ASSERT_EQ(redis.calls.size(), 2u);
  EXPECT_EQ(redis.calls[1].size(), 2u);
  for (const auto& o : outcomes) EXPECT_NE(o.find(":ok"), std::string::npos) << o;
}
