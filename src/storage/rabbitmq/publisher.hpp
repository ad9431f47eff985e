#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "storage/rabbitmq/node_list.hpp"

namespace orders::rabbitmq {

struct Message {
  std::string exchange;
  std::string routing_key;
  std::string message_id;
  std::string type;
  std::string body;  // JSON
};

struct PublisherOptions {
  std::size_t max_outstanding = 1000;  // unconfirmed messages on the channel
  std::size_t max_queued = 10000;      // waiting to be published; beyond it publish() refuses
  std::chrono::milliseconds confirm_timeout{3000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

// kNotSent, kOverloaded and kStopped: the message never reached the broker. The others after
// kConfirmed are uncertain: the broker may or may not have it.
enum class PublishOutcome { kConfirmed, kNacked, kTimedOut, kConnectionLost, kNotSent, kOverloaded, kStopped };
std::string_view to_string(PublishOutcome outcome);
inline bool never_sent(PublishOutcome o) {
  return o == PublishOutcome::kNotSent || o == PublishOutcome::kOverloaded || o == PublishOutcome::kStopped;
}

// Publishes persistent messages with publisher confirms. rabbitmq-c blocks, so one thread owns
// the connection; coroutines hand messages over through a bounded queue and are resumed on
// their own executor when the broker confirms. Many messages are outstanding at once (a
// window), which is what makes confirmed publishing fast. When its connection fails it connects
// to the next node of the list at once (a cluster's node died: 14 ms on loopback) and backs off
// only once no node answers; what was outstanding on the lost connection is reported
// kConnectionLost (uncertain), never silently republished: the caller's outbox decides.
class Publisher {
 public:
  Publisher(std::vector<config::AmqpEndpoint> nodes, PublisherOptions options = {});
  Publisher(config::AmqpEndpoint endpoint, PublisherOptions options = {})
      : Publisher(std::vector<config::AmqpEndpoint>{std::move(endpoint)}, options) {}
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Connects once, declares the topology, and starts the publishing thread. Throws
  // DependencyUnavailable when the broker cannot be reached (a start-up error).
  void start();
  void stop();
  bool connected() const { return connected_.load(std::memory_order_acquire); }

  // Waits for the broker's confirm; the outcome says whether the message is safe.
  boost::asio::awaitable<PublishOutcome> publish(Message message);

  struct Completion {
    virtual ~Completion() = default;
    virtual void complete(PublishOutcome outcome) = 0;
  };
  // Thread-safe; the completion is invoked exactly once, from the publisher's thread.
  void enqueue(Message message, std::unique_ptr<Completion> completion);

 private:
  struct Pending {
    Message message;
    std::unique_ptr<Completion> completion;
  };
  struct Outstanding {
    std::chrono::steady_clock::time_point sent;
    std::unique_ptr<Completion> completion;
  };
  void run();
  void serve(class Connection& connection);
  void fail_outstanding(PublishOutcome outcome);
  void wake();

  NodeList nodes_;  // touched by start() and then only by the publisher thread
  PublisherOptions options_;
  std::unique_ptr<class Connection> first_connection_;  // from start(), handed to the thread
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<bool> failing_over_{false};  // lost its connection, trying every node once
  int wake_fd_ = -1;                       // eventfd: new messages or stop

  std::mutex mutex_;
  std::deque<Pending> queue_;
  std::condition_variable backoff_cv_;

  // Only the publisher thread touches these.
  std::map<std::uint64_t, Outstanding> outstanding_;  // by delivery tag
  std::uint64_t next_tag_ = 1;
};

}  // namespace orders::rabbitmq
