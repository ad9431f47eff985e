#pragma once

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "storage/rabbitmq/node_list.hpp"

namespace orders::worker {

// Polls the depth of orders.persist (the backlog no worker has taken yet: the queue lag) and
// orders.dead (every dead-lettered message, the broker's own after the delivery limit included)
// into the gauge orders_queue_messages{queue}. A connection of its own, a passive declare per
// queue every `interval`; reconnects when the broker goes away. Runs until destroyed.
class QueueDepthProbe {
 public:
  QueueDepthProbe(std::vector<config::AmqpEndpoint> nodes, std::chrono::milliseconds interval);
  ~QueueDepthProbe();
  QueueDepthProbe(const QueueDepthProbe&) = delete;
  QueueDepthProbe& operator=(const QueueDepthProbe&) = delete;

 private:
  void run();
  void sleep_unless_stopped(std::chrono::milliseconds d);

  rabbitmq::NodeList nodes_;
  std::chrono::milliseconds interval_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace orders::worker
