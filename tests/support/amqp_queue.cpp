#include "support/amqp_queue.hpp"

#include <amqp.h>

#include <chrono>
#include <thread>

#include "config/config.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "support/process.hpp"

namespace orders::testing {
using rabbitmq::bytes;
using rabbitmq::kChannel;

config::AmqpEndpoint test_broker() { return config::parse_amqp_urls(required_env("RABBITMQ_URL")).front(); }

TestQueue::TestQueue(const std::string& binding_key, bool durable) : binding_key_(binding_key), durable_(durable) {
  if (durable) name_ = "test." + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  connect();
}

void TestQueue::connect() {
  auto endpoint = test_broker();
  connection_ = std::make_unique<rabbitmq::Connection>(endpoint, std::chrono::seconds(5));
  rabbitmq::declare_topology(*connection_);
  auto* ok = amqp_queue_declare(connection_->native(), kChannel, durable_ ? bytes(name_) : amqp_empty_bytes, 0,
                                durable_ ? 1 : 0, durable_ ? 0 : 1, durable_ ? 0 : 1, amqp_empty_table);
  connection_->check_rpc("declare test queue");
  name_.assign(static_cast<char*>(ok->queue.bytes), ok->queue.len);
  amqp_queue_bind(connection_->native(), kChannel, bytes(name_), bytes(rabbitmq::kExchange), bytes(binding_key_),
                  amqp_empty_table);
  connection_->check_rpc("bind test queue");
}

TestQueue::~TestQueue() {
  if (durable_ && connection_) {
    try {
      amqp_queue_delete(connection_->native(), kChannel, bytes(name_), 0, 0);
    } catch (...) {
    }
  }
}

std::vector<ReceivedMessage> TestQueue::drain(int quiet_ms) {
  std::vector<ReceivedMessage> out;
  if (durable_) connect();  // the broker may have restarted since the last call
  auto last = std::chrono::steady_clock::now();
  const auto deadline = last + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    amqp_rpc_reply_t reply = amqp_basic_get(connection_->native(), kChannel, bytes(name_), 1);
    if (reply.reply_type == AMQP_RESPONSE_NORMAL && reply.reply.id == AMQP_BASIC_GET_OK_METHOD) {
      auto* ok = static_cast<amqp_basic_get_ok_t*>(reply.reply.decoded);
      std::string routing_key(static_cast<char*>(ok->routing_key.bytes), ok->routing_key.len);
      amqp_message_t message;
      if (amqp_read_message(connection_->native(), kChannel, &message, 0).reply_type != AMQP_RESPONSE_NORMAL) break;
      out.push_back(
          {std::string(static_cast<char*>(message.properties.message_id.bytes), message.properties.message_id.len),
           routing_key, std::string(static_cast<char*>(message.body.bytes), message.body.len),
           message.properties.delivery_mode});
      amqp_destroy_message(&message);
      amqp_maybe_release_buffers(connection_->native());
      last = std::chrono::steady_clock::now();
      continue;
    }
    if (std::chrono::steady_clock::now() - last > std::chrono::milliseconds(quiet_ms)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return out;
}

void clear_order_queues(bool persist_too) {
  rabbitmq::Connection c(test_broker(), std::chrono::seconds(5));
  rabbitmq::declare_topology(c);
  for (std::string_view queue : {rabbitmq::kPersistQueue, rabbitmq::kDeadQueue}) {
    if (queue == rabbitmq::kPersistQueue && !persist_too) continue;
    amqp_queue_purge(c.native(), rabbitmq::kChannel, rabbitmq::bytes(queue));
    c.check_rpc("queue.purge");
  }
}

}  // namespace orders::testing
