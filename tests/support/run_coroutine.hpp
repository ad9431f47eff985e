#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <stdexcept>

namespace orders::test {

// Runs one coroutine to its end on a fresh io_context and returns what it returned (or throws
// what it threw): domain operations tested through their interfaces, no servers.
template <typename T>
T run_coroutine(boost::asio::awaitable<T> task) {
  boost::asio::io_context io;
  auto done = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return done.get();
}

// Runs one coroutine on `io` until it ends, for at most `limit`, and returns what it returned
// (or throws what it threw). For clients that keep timers armed (a Redis client, a cluster's
// slot map refresh), so that the io_context never runs out of work by itself.
template <typename T>
T run_bounded(boost::asio::io_context& io, boost::asio::awaitable<T> task,
              std::chrono::seconds limit = std::chrono::seconds(60)) {
  auto done = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(50));
  }
  if (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    throw std::runtime_error("coroutine did not finish within " + std::to_string(limit.count()) + " s");
  }
  return done.get();
}

}  // namespace orders::test
