#include "storage/rabbitmq/publisher.hpp"

#include <amqp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/backoff.hpp"
#include "common/dependency_error.hpp"
#include "storage/rabbitmq/connection.hpp"

namespace orders::rabbitmq {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string_view to_string(PublishOutcome outcome) {
  switch (outcome) {
    case PublishOutcome::kConfirmed: return "confirmed";
    case PublishOutcome::kNacked: return "nacked";
    case PublishOutcome::kTimedOut: return "timeout";
    case PublishOutcome::kConnectionLost: return "connection_lost";
    case PublishOutcome::kNotSent: return "not_sent";
    case PublishOutcome::kOverloaded: return "overloaded";
    case PublishOutcome::kStopped: return "stopped";
  }
  return "unknown";
}

Publisher::Publisher(std::vector<config::AmqpEndpoint> nodes, PublisherOptions options)
    : nodes_(std::move(nodes)), options_(options), wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Publisher::~Publisher() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Publisher::start() {
  first_connection_ = nodes_.connect(options_.connect_timeout);
  declare_topology(*first_connection_);
  Connection::check_status(amqp_confirm_select(first_connection_->native(), kChannel) ? 0 : -1, "confirm.select");
  first_connection_->check_rpc("confirm.select");
  connected_ = true;
  thread_ = std::thread([this] { run(); });
}

void Publisher::stop() {
  {
    // Under the queue's lock, so no enqueue() can slip a message in after the drain below.
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) return;
  }
  wake();
  backoff_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::deque<Pending> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (auto& p : left) p.completion->complete(PublishOutcome::kStopped);
}

void Publisher::wake() {
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void Publisher::enqueue(Message message, std::unique_ptr<Completion> completion) {
  // While the thread connects to the next node after a loss, messages wait for it (bounded by
  // max_queued) rather than being refused: a node's death costs the buyers nothing.
  if (!connected() && !failing_over_.load(std::memory_order_acquire)) {
    return completion->complete(PublishOutcome::kNotSent);
  }
  {
    std::unique_lock lock(mutex_);
    if (stopping_) {
      lock.unlock();
      return completion->complete(PublishOutcome::kStopped);
    }
    if (queue_.size() >= options_.max_queued) {
      // Back-pressure: the caller sheds load (503) instead of growing memory.
      return completion->complete(PublishOutcome::kOverloaded);
    }
    queue_.push_back(Pending{std::move(message), std::move(completion)});
  }
  wake();
}

namespace {

template <typename Handler>
struct CoroutineCompletion : Publisher::Completion {
  CoroutineCompletion(Handler h, asio::any_io_executor ex) : handler(std::move(h)), executor(std::move(ex)) {}
  void complete(PublishOutcome outcome) override {
    asio::post(executor, [h = std::move(handler), outcome]() mutable { std::move(h)(outcome); });
  }
  Handler handler;
  asio::any_io_executor executor;
};

// While it lives, the socket is corked: the frames of several messages leave in full segments,
// so the broker reads a batch in one go instead of being woken for each message (rabbitmq-c
// pushes every message out on its own: each publish ends with a send without MSG_MORE).
class Cork {
 public:
  Cork(int fd, bool on) : fd_(on ? fd : -1) { set(1); }
  ~Cork() { set(0); }
  Cork(const Cork&) = delete;
  Cork& operator=(const Cork&) = delete;

 private:
  void set(int value) {
    if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_CORK, &value, sizeof value);
  }
  int fd_;
};

}  // namespace

asio::awaitable<PublishOutcome> Publisher::publish(Message message) {
  auto executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(PublishOutcome)>(
      [this, &message, executor](auto handler) {
        using H = decltype(handler);
        enqueue(std::move(message), std::make_unique<CoroutineCompletion<H>>(std::move(handler), executor));
      },
      asio::use_awaitable);
}

void Publisher::fail_outstanding(PublishOutcome outcome) {
  for (auto& [tag, o] : outstanding_) o.completion->complete(outcome);
  outstanding_.clear();
}

void Publisher::run() {
  std::unique_ptr<Connection> connection = std::move(first_connection_);
  Backoff backoff(options_.min_backoff, options_.max_backoff);
  while (!stopping_) {
    if (!connection) {
      try {
        connection = nodes_.connect(options_.connect_timeout);
        declare_topology(*connection);
        amqp_confirm_select(connection->native(), kChannel);
        connection->check_rpc("confirm.select");
        next_tag_ = 1;
        backoff.reset();
        connected_ = true;
        failing_over_ = false;
        spdlog::info("RabbitMQ {} connected (publisher)", nodes_.current().display());
      } catch (const std::exception& e) {
        connection.reset();
        failing_over_ = false;  // no node answered: refuse until one does
        const auto wait = backoff.next();
        spdlog::warn("RabbitMQ publisher: {}; retrying in {} ms", e.what(), wait.count());
        // Messages queued meanwhile cannot wait for a broker that may not come back soon.
        std::deque<Pending> refused;
        {
          std::unique_lock lock(mutex_);
          refused.swap(queue_);
          backoff_cv_.wait_for(lock, wait, [this] { return stopping_.load(); });
        }
        for (auto& p : refused) p.completion->complete(PublishOutcome::kNotSent);
        continue;
      }
    }
    try {
      serve(*connection);
    } catch (const std::exception& e) {
      spdlog::warn("RabbitMQ publisher lost its connection: {}", e.what());
    }
    // Before connected_ drops, so that enqueue() never sees neither flag while a failover starts.
    failing_over_ = !stopping_;
    connected_ = false;
    fail_outstanding(PublishOutcome::kConnectionLost);
    connection.reset();
  }
  fail_outstanding(PublishOutcome::kStopped);
}

// Publishes what is queued (up to the window), then reads confirms, until the connection
// fails (throws) or the publisher stops.
void Publisher::serve(Connection& connection) {
  amqp_connection_state_t c = connection.native();
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                 AMQP_BASIC_TYPE_FLAG;
  props.content_type = bytes("application/json");
  props.delivery_mode = 2;  // persistent
  std::deque<Pending> batch;

  while (!stopping_) {
    {
      std::lock_guard lock(mutex_);
      while (!queue_.empty() && outstanding_.size() + batch.size() < options_.max_outstanding) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    {
      Cork cork(connection.socket_fd(), batch.size() > 1);
      while (!batch.empty()) {
        Pending p = std::move(batch.front());
        batch.pop_front();
        props.message_id = bytes(p.message.message_id);
        props.type = bytes(p.message.type);
        int status = amqp_basic_publish(c, kChannel, bytes(p.message.exchange), bytes(p.message.routing_key), 0, 0,
                                        &props, bytes(p.message.body));
        if (status != AMQP_STATUS_OK) {
          p.completion->complete(PublishOutcome::kConnectionLost);  // may have been partly written
          for (auto& rest : batch) rest.completion->complete(PublishOutcome::kNotSent);
          Connection::check_status(status, "publish");
        }
        outstanding_.emplace(next_tag_++, Outstanding{Clock::now(), std::move(p.completion)});
      }
    }

    // Confirms the broker has already sent sit in rabbitmq-c's buffer; poll() would not see them.
    bool buffered = amqp_data_in_buffer(c) || amqp_frames_enqueued(c);
    if (!buffered) {
      pollfd fds[2] = {{connection.socket_fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      int ready = ::poll(fds, 2, 100);
      if (ready < 0 && errno != EINTR) throw DependencyUnavailable("RabbitMQ", "poll failed");
      if (fds[1].revents & POLLIN) {
        std::uint64_t drained;
        [[maybe_unused]] auto n = ::read(wake_fd_, &drained, sizeof drained);
      }
    }
    {
      // Read every frame available now without blocking. Called on every turn, data or not:
      // rabbitmq-c sends its heartbeats from inside this call.
      for (;;) {
        amqp_frame_t frame;
        timeval zero{0, 0};
        int status = amqp_simple_wait_frame_noblock(c, &frame, &zero);
        if (status == AMQP_STATUS_TIMEOUT) break;
        Connection::check_status(status, "read");
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        auto id = frame.payload.method.id;
        if (id == AMQP_BASIC_ACK_METHOD || id == AMQP_BASIC_NACK_METHOD) {
          std::uint64_t tag;
          bool multiple;
          if (id == AMQP_BASIC_ACK_METHOD) {
            auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
            tag = ack->delivery_tag;
            multiple = ack->multiple;
          } else {
            auto* nack = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
            tag = nack->delivery_tag;
            multiple = nack->multiple;
          }
          auto outcome = id == AMQP_BASIC_ACK_METHOD ? PublishOutcome::kConfirmed : PublishOutcome::kNacked;
          auto end = multiple ? outstanding_.upper_bound(tag) : outstanding_.find(tag);
          auto begin = multiple ? outstanding_.begin() : end;
          if (!multiple && end != outstanding_.end()) ++end;
          for (auto it = begin; it != end; ++it) it->second.completion->complete(outcome);
          outstanding_.erase(begin, end);
        } else if (id == AMQP_CHANNEL_CLOSE_METHOD || id == AMQP_CONNECTION_CLOSE_METHOD) {
          throw DependencyUnavailable("RabbitMQ", "broker closed the channel");
        }
        if (!amqp_data_in_buffer(c) && !amqp_frames_enqueued(c)) break;
      }
      amqp_maybe_release_buffers(c);
    }

    // A confirm that does not come in time is reported as such; the caller's outbox decides
    // what happens to the order. A late ack then finds nothing to complete.
    const auto now = Clock::now();
    while (!outstanding_.empty() && now - outstanding_.begin()->second.sent > options_.confirm_timeout) {
      outstanding_.begin()->second.completion->complete(PublishOutcome::kTimedOut);
      outstanding_.erase(outstanding_.begin());
    }
  }
}

}  // namespace orders::rabbitmq
