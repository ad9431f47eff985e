#pragma once

#include <cstdint>

#include "config/config.hpp"

// orders bench persist: PostgreSQL's cost of the workers' transaction alone (#13). Synthetic
// orders of one product go through the worker's own persist_batch() in batches, one connection,
// no Redis, no RabbitMQ, nothing else on the wire: what PostgreSQL spends per order here is the
// floor of the drain for the schema as it is. Run it against a database of its own
// (bench/persist.sh): it writes orders and a product and leaves them.
namespace orders::bench {

struct PersistSettings {
  std::uint64_t orders = 100000;
  int batch = 500;
  double keyed_share = 0.9;  // of the orders with an Idempotency-Key, like the flash-sale bench
};

int run_bench_persist(const config::Dependencies& deps, const PersistSettings& settings);

}  // namespace orders::bench
