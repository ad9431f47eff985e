#pragma once

#include <atomic>
#include <chrono>
#include <vector>

#include "config/config.hpp"
#include "ordering/units.hpp"
#include "storage/redis/blocking_redis.hpp"

namespace orders::postgres {
class BlockingConnection;
}

// The payment window's end (SPEC G7): orders not PAID by their expiresAt become EXPIRED and
// their units sell again, exactly once. Runs in every `orders worker` (beside the consumer, on
// a thread of its own): the workers already hold what it needs (PostgreSQL, Redis) and run
// wherever orders are persisted, so no deployment can have orders without a sweeper; several
// sweep side by side without taking the same orders (FOR UPDATE SKIP LOCKED).
namespace orders::worker {

struct SweepSettings {
  std::chrono::milliseconds interval{1000};  // between rounds (a deadline is met within it)
  int batch = 500;                           // orders expired per transaction, at most
};

struct SweepRound {
  int expired = 0;   // CONFIRMED orders past their deadline, EXPIRED now
  int returned = 0;  // orders whose units Redis confirmed back this round (now or owed before)
};

// One transaction: up to `batch` CONFIRMED orders with expires_at <= now (the clock under the
// row lock, as a payment reads it) become EXPIRED, their stock comes back in PostgreSQL with
// EXPIRED ledger rows, audit rows and order.expired events in the outbox. Returns their units;
// throws DependencyUnavailable when PostgreSQL is lost (nothing changed then).
std::vector<ordering::OrderUnits> expire_due(postgres::BlockingConnection& pg, int batch);

// EXPIRED orders whose units Redis has not confirmed back (a sweeper stopped between its
// commit and Redis): up to `batch` of them.
std::vector<ordering::OrderUnits> owed_expired(postgres::BlockingConnection& pg, int batch);

// The units back to the Redis counters and the buyers' counts (return_units.lua: once per order
// whoever asks), then orders.units_returned_at set, so they never go back twice.
void return_expired_units(redis::BlockingRedis& redis, postgres::BlockingConnection& pg,
                          std::vector<ordering::OrderUnits> units);

// Owed returns first, then what is due, until less than a batch is due or `stop` is set.
SweepRound sweep_once(postgres::BlockingConnection& pg, redis::BlockingRedis& redis, int batch,
                      const std::atomic<bool>* stop = nullptr);

// sweep_once every interval on the calling thread until `stop`, reconnecting with backoff.
void run_expiry_sweeper(const config::PostgresEndpoint& pg, const redis::RedisTarget& redis,
                        const SweepSettings& settings, const std::atomic<bool>& stop);

}  // namespace orders::worker
