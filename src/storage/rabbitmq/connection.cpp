#include "storage/rabbitmq/connection.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <array>

#include "common/dependency_error.hpp"

namespace orders::rabbitmq {
namespace {

constexpr std::string_view kDependency = "RabbitMQ";

std::string describe(const amqp_rpc_reply_t& reply) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL: return "ok";
    case AMQP_RESPONSE_NONE: return "missing reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        auto* m = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
        return "connection closed by broker: " +
               std::string(static_cast<const char*>(m->reply_text.bytes), m->reply_text.len);
      }
      if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        auto* m = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
        return "channel closed by broker: " +
               std::string(static_cast<const char*>(m->reply_text.bytes), m->reply_text.len);
      }
      return "broker error";
  }
  return "unknown reply";
}

}  // namespace

amqp_bytes_t bytes(std::string_view s) { return amqp_bytes_t{s.size(), const_cast<char*>(s.data())}; }

void ConnectionStateDeleter::operator()(amqp_connection_state_t c) const {
  // Best effort: a dead socket just fails these.
  amqp_channel_close(c, kChannel, AMQP_REPLY_SUCCESS);
  amqp_connection_close(c, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(c);
}

void Connection::check_status(int status, std::string_view what) {
  if (status < 0) throw DependencyUnavailable(kDependency, std::string(what) + ": " + amqp_error_string2(status));
}

void Connection::check_rpc(std::string_view what) const {
  amqp_rpc_reply_t reply = amqp_get_rpc_reply(state_.get());
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    throw DependencyUnavailable(kDependency, std::string(what) + ": " + describe(reply));
  }
}

Connection::Connection(const config::AmqpEndpoint& endpoint, std::chrono::milliseconds timeout, int heartbeat_seconds) {
  amqp_connection_state_t raw = amqp_new_connection();
  if (!raw) throw DependencyUnavailable(kDependency, "out of memory");
  // Until the login succeeds there is no channel to close: destroy directly on failure.
  struct RawGuard {
    amqp_connection_state_t c;
    ~RawGuard() {
      if (c) amqp_destroy_connection(c);
    }
  } guard{raw};

  amqp_socket_t* socket = amqp_tcp_socket_new(raw);
  if (!socket) throw DependencyUnavailable(kDependency, "cannot create socket");
  timeval tv{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
             .tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  int status = amqp_socket_open_noblock(socket, endpoint.host.c_str(), endpoint.port, &tv);
  if (status != AMQP_STATUS_OK) {
    throw DependencyUnavailable(kDependency,
                                "cannot connect to " + endpoint.display() + ": " + amqp_error_string2(status));
  }
  // Bound every later blocking call (login, RPCs) by the same timeout.
  amqp_set_handshake_timeout(raw, &tv);
  amqp_set_rpc_timeout(raw, &tv);
  amqp_rpc_reply_t login = amqp_login(raw, endpoint.vhost.c_str(), 0, 131072, heartbeat_seconds, AMQP_SASL_METHOD_PLAIN,
                                      endpoint.user.c_str(), endpoint.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    throw DependencyUnavailable(
        kDependency, "login to " + endpoint.display() + " as '" + endpoint.user + "' failed: " + describe(login));
  }
  amqp_channel_open(raw, kChannel);
  amqp_rpc_reply_t open = amqp_get_rpc_reply(raw);
  if (open.reply_type != AMQP_RESPONSE_NORMAL) {
    throw DependencyUnavailable(kDependency, "channel open failed: " + describe(open));
  }
  state_.reset(raw);
  guard.c = nullptr;
}

int Connection::socket_fd() const { return amqp_get_sockfd(state_.get()); }

std::optional<std::uint32_t> Connection::queue_message_count(std::string_view queue) {
  auto* ok = amqp_queue_declare(state_.get(), kChannel, bytes(queue), /*passive=*/1, 0, 0, 0, amqp_empty_table);
  check_rpc("queue.declare (passive)");
  if (!ok) return std::nullopt;
  return ok->message_count;
}

void Connection::consume(std::string_view queue, std::uint16_t prefetch) {
  amqp_connection_state_t c = state_.get();
  amqp_basic_qos(c, kChannel, 0, prefetch, 0);
  check_rpc("basic.qos");
  amqp_basic_consume(c, kChannel, bytes(queue), amqp_empty_bytes, /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0,
                     amqp_empty_table);
  check_rpc("basic.consume");
}

std::optional<Delivery> Connection::next_delivery(std::chrono::milliseconds wait) {
  amqp_connection_state_t c = state_.get();
  timeval tv{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
  amqp_maybe_release_buffers(c);
  amqp_envelope_t envelope;
  amqp_rpc_reply_t reply = amqp_consume_message(c, &envelope, &tv, 0);
  if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) {
    return std::nullopt;
  }
  // Anything but a delivery ends this consumer: a lost socket, a closed channel, or a frame
  // other than basic.deliver (UNEXPECTED_STATE: e.g. the broker's basic.cancel when the queue's
  // node went away). The caller reconnects; the broker requeued what was not acknowledged.
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
    throw DependencyUnavailable(kDependency, "consume failed: " + describe(reply));
  }
  Delivery d{envelope.delivery_tag,
             std::string(static_cast<char*>(envelope.message.body.bytes), envelope.message.body.len)};
  amqp_destroy_envelope(&envelope);
  return d;
}

void Connection::ack(std::uint64_t tag, bool multiple) {
  check_status(amqp_basic_ack(state_.get(), kChannel, tag, multiple ? 1 : 0), "ack");
}

void Connection::reject(std::uint64_t tag, bool requeue) {
  amqp_basic_reject(state_.get(), kChannel, tag, requeue ? 1 : 0);
}

void declare_topic_exchange(Connection& connection, std::string_view exchange) {
  amqp_exchange_declare(connection.native(), kChannel, bytes(exchange), bytes("topic"), /*passive=*/0, /*durable=*/1,
                        /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
  connection.check_rpc("declare exchange " + std::string(exchange));
}

void declare_topology(Connection& connection) {
  amqp_connection_state_t c = connection.native();
  declare_topic_exchange(connection, kExchange);

  std::array<amqp_table_entry_t, 1> dead_args{};
  dead_args[0].key = bytes("x-queue-type");
  dead_args[0].value.kind = AMQP_FIELD_KIND_UTF8;
  dead_args[0].value.value.bytes = bytes("quorum");
  amqp_queue_declare(c, kChannel, bytes(kDeadQueue), 0, /*durable=*/1, 0, 0,
                     amqp_table_t{static_cast<int>(dead_args.size()), dead_args.data()});
  connection.check_rpc("declare queue orders.dead");

  declare_persist_like_queue(connection, kPersistQueue, kExchange, "order.created");
}

// A message redelivered more than kDeliveryLimit times (a poison message, a worker that crashes
// on it) goes to orders.dead via the default exchange instead of blocking the queue.
void declare_persist_like_queue(Connection& connection, std::string_view queue, std::string_view exchange,
                                std::string_view routing_key) {
  amqp_connection_state_t c = connection.native();
  std::array<amqp_table_entry_t, 4> args{};
  args[0].key = bytes("x-queue-type");
  args[0].value.kind = AMQP_FIELD_KIND_UTF8;
  args[0].value.value.bytes = bytes("quorum");
  args[1].key = bytes("x-delivery-limit");
  args[1].value.kind = AMQP_FIELD_KIND_I32;
  args[1].value.value.i32 = kDeliveryLimit;
  args[2].key = bytes("x-dead-letter-exchange");
  args[2].value.kind = AMQP_FIELD_KIND_UTF8;
  args[2].value.value.bytes = bytes("");
  args[3].key = bytes("x-dead-letter-routing-key");
  args[3].value.kind = AMQP_FIELD_KIND_UTF8;
  args[3].value.value.bytes = bytes(kDeadQueue);
  amqp_queue_declare(c, kChannel, bytes(queue), 0, /*durable=*/1, 0, 0,
                     amqp_table_t{static_cast<int>(args.size()), args.data()});
  connection.check_rpc("declare queue " + std::string(queue));
  amqp_queue_bind(c, kChannel, bytes(queue), bytes(exchange), bytes(routing_key), amqp_empty_table);
  connection.check_rpc("bind " + std::string(queue));
}

void delete_queue(Connection& connection, std::string_view queue) {
  amqp_queue_delete(connection.native(), kChannel, bytes(queue), /*if_unused=*/0, /*if_empty=*/0);
  connection.check_rpc("delete queue " + std::string(queue));
}

void delete_exchange(Connection& connection, std::string_view exchange) {
  amqp_exchange_delete(connection.native(), kChannel, bytes(exchange), /*if_unused=*/0);
  connection.check_rpc("delete exchange " + std::string(exchange));
}

}  // namespace orders::rabbitmq
