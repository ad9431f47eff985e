#pragma once

#include <amqp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace orders::rabbitmq {

inline constexpr amqp_channel_t kChannel = 1;

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
  int socket_fd() const { return amqp_get_sockfd(state_.get()); }

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

inline constexpr std::string_view kExchange = "orders";
inline constexpr std::string_view kPersistQueue = "orders.persist";
inline constexpr std::string_view kDeadQueue = "orders.dead";
inline constexpr int kDeliveryLimit = 5;

amqp_bytes_t bytes(std::string_view s);

}  // namespace orders::rabbitmq
