#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "common/call_batch.hpp"

namespace asio = boost::asio;
using orders::CallBatch;

namespace {

// Starts a caller per input on `io`; each records what it got back, or its error.
void start_callers(asio::io_context& io, CallBatch<int, std::string>& batch, const std::vector<int>& inputs,
                   std::vector<std::string>& got) {
  got.assign(inputs.size(), "");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    asio::co_spawn(
        io,
        [&batch, &got, i, in = inputs[i]]() -> asio::awaitable<void> {
          try {
            got[i] = co_await batch.add(in);
          } catch (const std::exception& e) {
            got[i] = std::string("error: ") + e.what();
          }
        },
        asio::detached);
  }
}

}  // namespace

TEST(CallBatch, EachCallerGetsTheOutputOfItsOwnInput) {
  asio::io_context io;
  std::vector<std::vector<int>> calls;
  CallBatch<int, std::string> batch([&](const std::vector<int>& inputs) -> asio::awaitable<std::vector<std::string>> {
    calls.push_back(inputs);
    std::vector<std::string> out;
    for (int in : inputs) out.push_back("answer-" + std::to_string(in * 10));
    co_return out;
  });
  std::vector<std::string> got;
  start_callers(io, batch, {3, 1, 2}, got);
  io.run();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], (std::vector<int>{3, 1, 2}));
  EXPECT_EQ(got, (std::vector<std::string>{"answer-30", "answer-10", "answer-20"}));
}

TEST(CallBatch, ACallAnsweringTooFewOutputsFailsItsGroup) {
  asio::io_context io;
  CallBatch<int, std::string> batch([](const std::vector<int>&) -> asio::awaitable<std::vector<std::string>> {
    co_return std::vector<std::string>{"only one"};
  });
  std::vector<std::string> got;
  start_callers(io, batch, {1, 2}, got);
  io.run();
  for (const auto& g : got) EXPECT_EQ(g.rfind("error: CallBatch", 0), 0u) << g;
}

TEST(CallBatch, ACrowdGoesInGroupsOfAtMostMaxGroupAndEachGetsItsOwnOutput) {
  asio::io_context io;
  std::vector<std::vector<int>> calls;
  CallBatch<int, std::string> batch(
      [&](const std::vector<int>& inputs) -> asio::awaitable<std::vector<std::string>> {
        calls.push_back(inputs);
        std::vector<std::string> out;
        for (int in : inputs) out.push_back("answer-" + std::to_string(in));
        co_return out;
      },
      2);
  std::vector<std::string> got;
  start_callers(io, batch, {5, 4, 3, 2, 1}, got);
  io.run();
  EXPECT_EQ(calls, (std::vector<std::vector<int>>{{5, 4}, {3, 2}, {1}}));
  EXPECT_EQ(got, (std::vector<std::string>{"answer-5", "answer-4", "answer-3", "answer-2", "answer-1"}));
}

TEST(CallBatch, AWeightBoundsAGroupAndAHeavierInputGoesAlone) {
  asio::io_context io;
  std::vector<std::vector<int>> calls;
  CallBatch<int, std::string> batch(
      [&](const std::vector<int>& inputs) -> asio::awaitable<std::vector<std::string>> {
        calls.push_back(inputs);
        co_return std::vector<std::string>(inputs.size(), "ok");
      },
      256, [](const int& in) { return static_cast<std::size_t>(in); }, 5);
  std::vector<std::string> got;
  start_callers(io, batch, {3, 2, 4, 6, 1, 1}, got);
  io.run();
  EXPECT_EQ(calls, (std::vector<std::vector<int>>{{3, 2}, {4}, {6}, {1, 1}}));
  EXPECT_EQ(got, std::vector<std::string>(6, "ok"));
}

TEST(CallBatch, ACancelledWaitEndsAbortedAndItsGroupStillGoes) {
  asio::io_context io;
  std::vector<std::vector<int>> calls;
  CallBatch<int, std::string> batch([&](const std::vector<int>& inputs) -> asio::awaitable<std::vector<std::string>> {
    asio::steady_timer slow(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
    co_await slow.async_wait(asio::use_awaitable);
    calls.push_back(inputs);
    co_return std::vector<std::string>(inputs.size(), "late");
  });
  std::string impatient = "not answered", patient;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer soon(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
        try {
          auto first = co_await (batch.add(1) || soon.async_wait(asio::use_awaitable));
          impatient = first.index() == 0 ? "answered" : "timed out";
        } catch (const std::exception& e) {
          impatient = std::string("error: ") + e.what();
        }
      },
      asio::detached);
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { patient = co_await batch.add(2); }, asio::detached);
  io.run();
  EXPECT_EQ(impatient, "timed out");
  EXPECT_EQ(patient, "late");
  EXPECT_EQ(calls, (std::vector<std::vector<int>>{{1, 2}})) << "the cancelled caller's input still went";
}
