// ReadJoin: one thread's concurrent reads of one key share round trips, and no caller is
// answered by a read sent before it arrived. Reads here are held open until the test lets them
// answer, so every interleaving is the test's, not the scheduler's.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "catalog/read_join.hpp"

namespace {

namespace asio = boost::asio;
using orders::catalog::ReadJoin;

struct Answer {
  int arrived = 0;    // the logical clock when the caller asked
  int read_sent = 0;  // the clock when the read that answered it was sent (0: none yet)
  std::string failure;
};

struct Harness {
  asio::io_context io;
  ReadJoin<int> join;
  int clock = 0;                                           // every arrival and every read sent ticks it
  std::vector<std::unique_ptr<asio::steady_timer>> reads;  // every read sent, held open
  std::size_t released = 0;
  std::set<std::size_t> failing;  // reads (0-based) that fail when released
  std::map<std::string, Answer> answers;

  asio::awaitable<int> read() {
    const int sent = ++clock;
    const std::size_t index = reads.size();
    reads.push_back(std::make_unique<asio::steady_timer>(io, asio::steady_timer::time_point::max()));
    boost::system::error_code cancelled;
    co_await reads.back()->async_wait(asio::redirect_error(asio::use_awaitable, cancelled));
    if (failing.count(index)) throw std::runtime_error("read " + std::to_string(index) + " failed");
    co_return sent;
  }

  // One caller, run until it waits.
  void ask(const std::string& caller, const std::string& key = "product") {
    spawn(caller, key);
    settle();
  }

  // Callers that arrive in one wake-up of the thread (queued before any of them runs).
  void ask_together(const std::vector<std::string>& callers) {
    for (const auto& caller : callers) spawn(caller, "product");
    settle();
  }

  void spawn(const std::string& caller, const std::string& key) {
    asio::co_spawn(
        io,
        [this, caller, key]() -> asio::awaitable<void> {
          answers[caller].arrived = ++clock;
          ReadJoin<int>::Reader reader = [this]() { return read(); };
          try {
            answers[caller].read_sent = co_await join.run(key, reader);
          } catch (const std::exception& e) {
            answers[caller].failure = e.what();
          }
        },
        asio::detached);
  }

  // Lets the next read out answer.
  void answer() {
    ASSERT_LT(released, reads.size()) << "no read is out";
    reads[released++]->cancel();
    settle();
  }

  // Lets the next read out answer, and `caller` arrives in the same wake-up, before the next
  // round's read is sent.
  void answer_then_ask(const std::string& caller) {
    ASSERT_LT(released, reads.size()) << "no read is out";
    reads[released++]->cancel();
    spawn(caller, "product");
    settle();
  }

  void settle() {
    io.restart();
    while (io.poll() > 0) {
    }
  }

  std::size_t out() const { return reads.size() - released; }
};

}  // namespace

TEST(ReadJoin, CallersArrivingDuringAReadShareTheNextOne) {
  Harness h;
  h.ask("a");
  EXPECT_EQ(h.out(), 1u);
  h.ask("b");
  h.ask("c");
  h.ask("d");
  EXPECT_EQ(h.out(), 1u) << "b, c and d wait: the read out was sent before they asked";

  h.answer();
  EXPECT_EQ(h.answers["a"].read_sent, 2);
  EXPECT_EQ(h.answers["b"].read_sent, 0) << "not answered by a read sent before b asked";
  EXPECT_EQ(h.out(), 1u) << "one read for b, c and d";

  h.ask("e");
  h.answer();
  for (const char* caller : {"b", "c", "d"}) EXPECT_EQ(h.answers[caller].read_sent, h.answers["e"].arrived - 1);
  EXPECT_EQ(h.answers["e"].read_sent, 0);
  EXPECT_EQ(h.out(), 1u);
  h.answer();
  EXPECT_GT(h.answers["e"].read_sent, h.answers["e"].arrived);

  EXPECT_EQ(h.join.reads(), 3u);
  EXPECT_EQ(h.join.joined(), 5u);
  for (const auto& [caller, answer] : h.answers) {
    EXPECT_GT(answer.read_sent, answer.arrived) << caller << " was answered by a read sent before it asked";
  }

  h.ask("f");
  EXPECT_EQ(h.out(), 1u) << "nothing out: f reads at once";
  h.answer();
  EXPECT_GT(h.answers["f"].read_sent, h.answers["f"].arrived);
}

TEST(ReadJoin, CallersOfOneWakeUpShareTheFirstRead) {
  Harness h;
  h.ask_together({"a", "b", "c"});
  EXPECT_EQ(h.out(), 1u) << "one read for the three";
  h.ask_together({"d", "e"});
  EXPECT_EQ(h.out(), 1u) << "d and e wait: the read out was sent before they asked";
  h.answer_then_ask("f");  // f arrives before d's round is sent: it joins it
  for (const char* caller : {"a", "b", "c"}) EXPECT_EQ(h.answers[caller].read_sent, h.answers["c"].arrived + 1);
  EXPECT_EQ(h.answers["d"].read_sent, 0);
  EXPECT_EQ(h.out(), 1u);
  h.answer();
  for (const char* caller : {"d", "e", "f"}) EXPECT_EQ(h.answers[caller].read_sent, h.answers["f"].arrived + 1);
  EXPECT_EQ(h.join.reads(), 2u);
  EXPECT_EQ(h.join.joined(), 6u);
  for (const auto& [caller, answer] : h.answers) {
    EXPECT_GT(answer.read_sent, answer.arrived) << caller << " was answered by a read sent before it asked";
  }
}

TEST(ReadJoin, AFailedReadFailsItsRoundOnly) {
  Harness h;
  h.failing = {1};
  h.ask("a");
  h.ask("b");
  h.ask("c");
  h.answer();  // a's read
  EXPECT_TRUE(h.answers["a"].failure.empty());
  h.ask("d");
  h.answer();  // b's round: fails
  EXPECT_EQ(h.answers["b"].failure, "read 1 failed");
  EXPECT_EQ(h.answers["c"].failure, "read 1 failed");
  EXPECT_TRUE(h.answers["d"].failure.empty());
  EXPECT_EQ(h.out(), 1u) << "d's round goes out after the failure";
  h.answer();
  EXPECT_TRUE(h.answers["d"].failure.empty());
  EXPECT_GT(h.answers["d"].read_sent, h.answers["d"].arrived);
}

TEST(ReadJoin, DifferentKeysDoNotJoin) {
  Harness h;
  h.ask("a", "product-1");
  h.ask("b", "product-2");
  EXPECT_EQ(h.out(), 2u);
  h.ask("c", "product-1");
  EXPECT_EQ(h.out(), 2u);
  h.answer();
  h.answer();
  EXPECT_EQ(h.answers["a"].read_sent, 2);
  EXPECT_EQ(h.answers["b"].read_sent, 4);
  EXPECT_EQ(h.answers["c"].read_sent, 0);
  h.answer();
  EXPECT_GT(h.answers["c"].read_sent, h.answers["c"].arrived);
  EXPECT_EQ(h.join.reads(), 3u);
}
