#pragma once

#include <cstdint>

#include "config/config.hpp"

// orders bench broker: RabbitMQ's cost of an order's messages alone (#13), through the
// service's own publisher and consumer code. Three phases on a quorum queue of its own declared
// as orders.persist is (bench.broker, deleted at the end):
// persistent publishes with confirms (what the API does per order), delivery with
// multiple-acks (what a worker does), and confirmed publishes no queue is bound to (a worker's
// order.confirmed when nobody listens). Each phase reports messages/s and µs of CPU per message.
// Its messages go to an exchange of its own (bench.orders, deleted too), never to `orders`.
namespace orders::bench {

struct BrokerSettings {
  std::uint64_t messages = 100000;
  int body_bytes = 700;  // about an order.created event of one item
  int prefetch = 1000;   // the worker's
  int ack_every = 500;   // the worker's batch: one multiple-ack per batch
};

int run_bench_broker(const config::Dependencies& deps, const BrokerSettings& settings);

}  // namespace orders::bench
