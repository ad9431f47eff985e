#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

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

}  // namespace orders::test
