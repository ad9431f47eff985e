#pragma once

#include <atomic>
#include <chrono>

#include "config/config.hpp"

namespace orders::rabbitmq {
class Publisher;
}
namespace orders::postgres {
class BlockingConnection;
}

namespace orders::worker {

struct RelaySettings {
  std::chrono::milliseconds idle_wait{200};  // between looks while the outbox is empty
  int batch = 500;                           // events claimed per transaction
  std::chrono::milliseconds confirm_wait{5000};
};

// Relays the record's event outbox (event_outbox, migration 0006: order.cancelled,
// order.expired, order.status_changed written in the transaction of their status change) to
// the broker, at least once: claims the oldest rows with FOR UPDATE SKIP LOCKED (several
// workers relay side by side without taking the same rows), publishes them with confirms and
// the event id as message_id, and deletes in the same transaction the rows the broker
// confirmed. A crash anywhere leaves the rest for the next look. Throws DependencyUnavailable
// when PostgreSQL is lost.
struct RelayRound {
  int claimed = 0;
  int confirmed = 0;
};
RelayRound relay_outbox_once(postgres::BlockingConnection& pg, rabbitmq::Publisher& publisher,
                             const RelaySettings& settings);

// relay_outbox_once in a loop on the calling thread until `stop`, reconnecting with backoff.
void run_event_relay(const config::PostgresEndpoint& pg, rabbitmq::Publisher& publisher, const RelaySettings& settings,
                     const std::atomic<bool>& stop);

}  // namespace orders::worker
