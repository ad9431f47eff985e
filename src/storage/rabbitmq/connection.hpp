#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"

// rabbitmq-c's handles, declared as amqp.h declares them, so that this header names them without
// including rabbitmq-c: only the .cpp files under src/storage/ (and tests) see the C client.
struct amqp_connection_state_t_;
struct amqp_bytes_t_;
using amqp_connection_state_t = amqp_connection_state_t_*;
using amqp_bytes_t = amqp_bytes_t_;

namespace orders::rabbitmq {

inline constexpr std::uint16_t kChannel = 1;  // an amqp_channel_t

// A message taken from a queue, to be acknowledged (or rejected) by its tag.
struct Delivery {
  std::uint64_t tag = 0;
  std::string body;
};

struct ConnectionStateDeleter {
  void operator()(amqp_connection_state_t c) const;
};

// A blocking rabbitmq-c connection with one channel open. rabbitmq-c is not thread-safe and
// blocks, so every Connection is owned by exactly one thread (the publisher's or the
// consumer's). Throws DependencyUnavailable("RabbitMQ", ...) on any failure.
class Connection {
 public:
  Connection(const config::AmqpEndpoint& endpoint, std::chrono::milliseconds timeout, int heartbeat_seconds = 10);

  amqp_connection_state_t native() const { return state_.get(); }
  int socket_fd() const;

  // Consuming with manual acknowledgements: at most `prefetch` unacknowledged messages
  // (basic.qos), then basic.consume on `queue`.
  void consume(std::string_view queue, std::uint16_t prefetch);
  // The next message, or nullopt when none came within `wait`. Throws
  // DependencyUnavailable("RabbitMQ", "consume failed") when the connection fails.
  std::optional<Delivery> next_delivery(std::chrono::milliseconds wait);
  // basic.ack (every message up to `tag` when `multiple`); throws DependencyUnavailable when it
  // cannot be sent.
  void ack(std::uint64_t tag, bool multiple);
  // The number of messages ready in `queue` (a passive queue.declare: a queue that does not
  // exist is an error, not a creation). Throws DependencyUnavailable naming the RPC.
  // nullopt when the broker answered without a count.
  std::optional<std::uint32_t> queue_message_count(std::string_view queue);
  // basic.reject: without `requeue`, the message goes to the queue's dead-letter exchange. A
  // failure to send shows on the next call on the connection.
  void reject(std::uint64_t tag, bool requeue);

  // Checks the reply of the last synchronous RPC; throws with `what` and the broker's reason.
  void check_rpc(std::string_view what) const;
  // Throws DependencyUnavailable when a library call returned a status below zero.
  static void check_status(int status, std::string_view what);

 private:
  std::unique_ptr<amqp_connection_state_t_, ConnectionStateDeleter> state_;
};

// Declares SPEC section 5's topology (idempotent): the durable topic exchange `orders`, the
// quorum queue `orders.persist` bound to `order.created`, with a delivery limit and
// dead-lettering into the quorum queue `orders.dead`.
void declare_topology(Connection& connection);

// A durable topic exchange (`orders` itself, or the broker benchmark's own).
void declare_topic_exchange(Connection& connection, std::string_view exchange);
// A quorum queue as orders.persist is declared (the delivery limit, dead-lettering into
// orders.dead), bound to `exchange` by `routing_key`: orders.persist itself, and the broker's own
// benchmark (orders bench broker), which drops its queue and exchange again with these.
void declare_persist_like_queue(Connection& connection, std::string_view queue, std::string_view exchange,
                                std::string_view routing_key);
void delete_queue(Connection& connection, std::string_view queue);
void delete_exchange(Connection& connection, std::string_view exchange);

inline constexpr std::string_view kExchange = "orders";
inline constexpr std::string_view kPersistQueue = "orders.persist";
inline constexpr std::string_view kDeadQueue = "orders.dead";
inline constexpr int kDeliveryLimit = 5;

amqp_bytes_t bytes(std::string_view s);

}  // namespace orders::rabbitmq
