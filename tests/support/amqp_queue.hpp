#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace orders::rabbitmq {
class Connection;
}

namespace orders::testing {

// The test stack's broker: the first node of RABBITMQ_URL (on the cluster stack a list of three;
// the exchange, queues and bindings are the cluster's, so any node serves a test).
config::AmqpEndpoint test_broker();

struct ReceivedMessage {
  std::string message_id;
  std::string routing_key;
  std::string body;
  int delivery_mode = 0;
};

// A private, exclusive queue bound to the `orders` exchange: counts what was published.
class TestQueue {
 public:
  // durable: a named durable queue that survives a broker restart (deleted by the destructor);
  // otherwise an exclusive server-named one.
  explicit TestQueue(const std::string& binding_key, bool durable = false);
  ~TestQueue();
  // Takes every message that arrives until `quiet_ms` pass without one (bounded by 30 s).
  std::vector<ReceivedMessage> drain(int quiet_ms = 500);

 private:
  std::unique_ptr<rabbitmq::Connection> connection_;
  std::string name_;
  std::string binding_key_;
  bool durable_ = false;
  void connect();
};

// Empties orders.persist and orders.dead. Tests share the test stack's broker while each has a
// database of its own: other tests dead-letter messages on purpose, or leave orders for
// databases a worker here does not know (it would dead-letter them). A test that reads the
// queues' depth (reconcile) starts from empty ones (the tests run one at a time). Without
// `persist_too`, only the dead letters go (a test whose own orders may still be queued).
void clear_order_queues(bool persist_too = true);

}  // namespace orders::testing
