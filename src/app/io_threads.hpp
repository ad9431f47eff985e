#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace orders::app {

// N single-threaded io_contexts, one thread each (one shard per core): every connection
// (HTTP, Redis, PostgreSQL) lives on one of them, so the hot path takes no locks.
class IoThreads {
 public:
  explicit IoThreads(int count);
  ~IoThreads();

  std::size_t size() const { return contexts_.size(); }
  boost::asio::io_context& at(std::size_t i) { return *contexts_[i]; }

  void start();
  // Lets each io_context run out of work (everything was closed), then joins; after the
  // deadline it stops them outright. Returns true when they finished on their own.
  bool finish(std::chrono::steady_clock::duration grace);

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
};

// Runs `f` on the io_context's thread and waits for it (start-up and shutdown steps).
void run_on(boost::asio::io_context& io, std::function<void()> f);

}  // namespace orders::app
