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

TestQueue::TestQueue(const std::string& binding_key) {
  auto endpoint = config::parse_amqp_url(required_env("RABBITMQ_URL"));
  connection_ = std::make_unique<rabbitmq::Connection>(endpoint, std::chrono::seconds(5));
  rabbitmq::declare_topology(*connection_);
  auto* ok = amqp_queue_declare(connection_->native(), kChannel, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
  connection_->check_rpc("declare test queue");
  name_.assign(static_cast<char*>(ok->queue.bytes), ok->queue.len);
  amqp_queue_bind(connection_->native(), kChannel, bytes(name_), bytes(rabbitmq::kExchange), bytes(binding_key),
                  amqp_empty_table);
  connection_->check_rpc("bind test queue");
}

TestQueue::~TestQueue() = default;

std::vector<ReceivedMessage> TestQueue::drain(int quiet_ms) {
  std::vector<ReceivedMessage> out;
  auto last = std::chrono::steady_clock::now();
  const auto deadline = last + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    amqp_rpc_reply_t reply = amqp_basic_get(connection_->native(), kChannel, bytes(name_), 1);
    if (reply.reply_type == AMQP_RESPONSE_NORMAL && reply.reply.id == AMQP_BASIC_GET_OK_METHOD) {
      auto* ok = static_cast<amqp_basic_get_ok_t*>(reply.reply.decoded);
      std::string routing_key(static_cast<char*>(ok->routing_key.bytes), ok->routing_key.len);
      amqp_message_t message;
      if (amqp_read_message(connection_->native(), kChannel, &message, 0).reply_type != AMQP_RESPONSE_NORMAL) break;
      out.push_back({std::string(static_cast<char*>(message.properties.message_id.bytes), message.properties.message_id.len),
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

}  // namespace orders::testing
