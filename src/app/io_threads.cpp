#include "app/io_threads.hpp"

#include <atomic>
#include <boost/asio/post.hpp>
#include <future>

namespace orders::app {

IoThreads::IoThreads(int count) {
  for (int i = 0; i < std::max(count, 1); ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

IoThreads::~IoThreads() {
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void IoThreads::start() {
  for (auto& c : contexts_) {
    threads_.emplace_back([io = c.get()] { io->run(); });
  }
}

bool IoThreads::finish(std::chrono::steady_clock::duration grace) {
  guards_.clear();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  bool clean = true;
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    while (!contexts_[i]->stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!contexts_[i]->stopped()) {
      clean = false;
      contexts_[i]->stop();
    }
    if (threads_.size() > i && threads_[i].joinable()) threads_[i].join();
  }
  return clean;
}

void run_on(boost::asio::io_context& io, std::function<void()> f) {
  std::promise<void> done;
  boost::asio::post(io, [&] {
    try {
      f();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  done.get_future().get();
}

}  // namespace orders::app
