#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "storage/rabbitmq/connection.hpp"

namespace orders::rabbitmq {

// The nodes of a RabbitMQ cluster a client may connect to (RABBITMQ_URL's list), and which one
// it tries next. Any node of a cluster serves every queue (a quorum queue's leader may be on
// another node; the broker forwards), so a client needs one live node, not a particular one.
//
// connect() tries the nodes in order, starting with the one after the node of its last
// connection: a client reconnects only when that connection failed, and the node it was on is
// the one most likely to be down (on a real network a dead host costs a whole connect timeout).
// The first connection starts with the first URL. Owned by one thread, as a Connection is.
class NodeList {
 public:
  explicit NodeList(std::vector<config::AmqpEndpoint> nodes);

  // A connection with its channel open, to the first node that answers. Throws
  // DependencyUnavailable("RabbitMQ", ...) naming every node tried and why it failed.
  std::unique_ptr<Connection> connect(std::chrono::milliseconds timeout, int heartbeat_seconds = 10);

  // The node of the last successful connect() (the first node before any).
  const config::AmqpEndpoint& current() const { return nodes_[current_]; }
  std::size_t size() const { return nodes_.size(); }
  // "host:port/vhost, host:port/vhost, ..." for logs.
  std::string display() const;

  // The order connect() tries the nodes in next: indexes into the list.
  std::vector<std::size_t> attempt_order() const;

 private:
  std::vector<config::AmqpEndpoint> nodes_;
  std::size_t current_ = 0;
  bool connected_once_ = false;
};

}  // namespace orders::rabbitmq
