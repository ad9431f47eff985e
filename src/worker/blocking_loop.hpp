#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "config/config.hpp"
#include "storage/postgres/blocking.hpp"

// What every blocking loop of `orders worker` (the consumer, the event relay, the expiry
// sweeper) does between its rounds: pause without missing a stop, and open its own PostgreSQL
// connection, named for pg_stat_activity.
namespace orders::worker {

// Sleeps `d` in slices of 20 ms, returning early once `stop` is set.
inline void sleep_unless_stopped(const std::atomic<bool>& stop, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

inline postgres::BlockingConnection connect_postgres(const config::PostgresEndpoint& pg,
                                                     const std::string& application_name) {
  postgres::ConnectOptions options;
  options.timeout = std::chrono::seconds(5);
  options.application_name = application_name;
  return postgres::BlockingConnection::connect(pg.conninfo, options);
}

}  // namespace orders::worker
