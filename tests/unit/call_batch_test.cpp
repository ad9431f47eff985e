#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "ordering/call_batch.hpp"

namespace asio = boost::asio;
using orders::ordering::CallBatch;

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
