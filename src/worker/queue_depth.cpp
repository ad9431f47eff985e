#include "worker/queue_depth.hpp"

#include <spdlog/spdlog.h>

#include "metrics/registry.hpp"
#include "storage/rabbitmq/connection.hpp"

namespace orders::worker {
namespace {

metrics::Family<metrics::Gauge>& queue_messages() {
  static auto& family = metrics::registry().gauge(
      "orders_queue_messages",
      "Messages ready in the queue: orders.persist is the backlog no worker has taken yet, orders.dead every "
      "dead-lettered message",
      {"queue"});
  return family;
}

}  // namespace

QueueDepthProbe::QueueDepthProbe(std::vector<config::AmqpEndpoint> nodes, std::chrono::milliseconds interval)
    : nodes_(std::move(nodes)), interval_(interval) {
  queue_messages();
  thread_ = std::thread([this] { run(); });
}

QueueDepthProbe::~QueueDepthProbe() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void QueueDepthProbe::sleep_unless_stopped(std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop_ && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

void QueueDepthProbe::run() {
  bool warned = false;
  while (!stop_) {
    try {
      std::unique_ptr<rabbitmq::Connection> connection = nodes_.connect(std::chrono::seconds(3),
                                                                        /*heartbeat_seconds=*/0);
      warned = false;
      while (!stop_) {
        for (std::string_view queue : {rabbitmq::kPersistQueue, rabbitmq::kDeadQueue}) {
          // Passive: only asks; a queue that does not exist yet is an error, not a creation.
          if (auto n = connection->queue_message_count(queue))
            queue_messages().with({queue}).set(static_cast<double>(*n));
        }
        sleep_unless_stopped(interval_);
      }
    } catch (const std::exception& e) {
      if (!warned) spdlog::warn("worker: queue depths unavailable: {}", e.what());
      warned = true;
      sleep_unless_stopped(std::max(interval_, std::chrono::milliseconds(1000)));
    }
  }
}

}  // namespace orders::worker
