#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "storage/redis/blocking_redis.hpp"

namespace orders::rabbitmq {
class Publisher;
}

namespace orders::worker {

struct WorkerOptions {
  int prefetch = 1000;
  int batch_size = 500;
  std::chrono::milliseconds batch_wait{5};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

// Consumes orders.persist and persists order.created events in batches: one PostgreSQL
// transaction per batch, acknowledged (multiple-ack up to the batch's last tag) only after the
// commit. A message that cannot be parsed or that the record refuses is rejected without
// requeue and lands in orders.dead. While PostgreSQL is down the batch is held and retried
// with backoff, never released (a redelivery would count against the delivery limit).
// Blocking (rabbitmq-c, libpq, hiredis) on the calling thread; returns when `stop` is set.
// After each commit it publishes order.confirmed / order.failed through `publisher`.
void run_order_worker(const config::PostgresEndpoint& pg, const redis::RedisTarget& redis,
                      const std::vector<config::AmqpEndpoint>& amqp, rabbitmq::Publisher& publisher,
                      const WorkerOptions& options, const std::atomic<bool>& stop);

}  // namespace orders::worker
