#include "worker/event_relay.hpp"

#include <spdlog/spdlog.h>

#include <optional>
#include <thread>

#include "common/backoff.hpp"
#include "common/dependency_error.hpp"
#include "metrics/registry.hpp"
#include "storage/postgres/array.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "worker/blocking_loop.hpp"
#include "worker/confirm_wait.hpp"

namespace orders::worker {
namespace {

using Clock = std::chrono::steady_clock;

metrics::Counter& relayed() {
  static metrics::Counter& c = metrics::registry()
                                   .counter("orders_event_outbox_relayed_total",
                                            "Lifecycle events relayed from the record's outbox, confirmed")
                                   .with({});
  return c;
}

postgres::Result must(postgres::Result r, postgres::BlockingConnection& pg, const char* what) {
  if (!r.ok()) {
    if (pg.broken()) throw DependencyUnavailable("PostgreSQL", std::string(what) + ": " + r.error_message());
    throw std::runtime_error(std::string(what) + ": " + r.error_message());
  }
  return r;
}

metrics::Gauge& waiting() {
  static metrics::Gauge& g =
      metrics::registry()
          .gauge("orders_event_outbox_pending",
                 "Lifecycle events in the record's outbox not yet confirmed by the broker (a stuck relay grows it)")
          .with({});
  return g;
}

// How often the relay counts what waits in the outbox, for the gauge.
constexpr auto kCountEvery = std::chrono::seconds(2);

}  // namespace

RelayRound relay_outbox_once(postgres::BlockingConnection& pg, rabbitmq::Publisher& publisher,
                             const RelaySettings& settings) {
  postgres::Transaction tx(pg);
  postgres::Params limit;
  limit.add(static_cast<long long>(settings.batch));
  auto rows = must(pg.exec("SELECT id, routing_key, body FROM event_outbox ORDER BY created_at, id LIMIT $1"
                           " FOR UPDATE SKIP LOCKED",
                           limit),
                   pg, "claim events");
  if (rows.rows() == 0) {
    tx.commit();
    return {};
  }
  ConfirmWait confirms;
  std::vector<std::string> ids;
  for (int i = 0; i < rows.rows(); ++i) {
    ids.emplace_back(rows.get(i, 0));
    std::string routing_key(rows.get(i, 1));
    rabbitmq::Message message{"orders", routing_key, ids.back(), routing_key, std::string(rows.get(i, 2))};
    publisher.enqueue(std::move(message), confirms.completion());
  }
  // The claimed rows stay locked while the broker confirms (at most confirm_wait): another relay
  // skips them rather than publishing them twice.
  confirms.wait(settings.confirm_wait);
  const std::vector<bool> confirmed = confirms.confirmed();
  std::vector<std::optional<std::string>> done;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (confirmed[i]) done.emplace_back(ids[i]);
  }
  if (!done.empty()) {
    postgres::Params p;
    p.add(postgres::pg_array(done));
    must(pg.exec("DELETE FROM event_outbox WHERE id = ANY($1::uuid[])", p), pg, "delete relayed events");
  }
  tx.commit();
  relayed().inc(done.size());
  if (done.size() < ids.size()) {
    spdlog::warn("event relay: {} of {} events not confirmed by the broker; they are relayed again",
                 ids.size() - done.size(), ids.size());
  }
  return {rows.rows(), static_cast<int>(done.size())};
}

void run_event_relay(const config::PostgresEndpoint& pg, rabbitmq::Publisher& publisher, const RelaySettings& settings,
                     const std::atomic<bool>& stop) {
  relayed();
  waiting();
  auto counted = Clock::time_point{};
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(5000));
  std::optional<postgres::BlockingConnection> conn;
  auto pause = [&](std::chrono::milliseconds d) { sleep_unless_stopped(stop, d); };
  while (!stop) {
    try {
      if (!conn || conn->broken()) {
        conn = connect_postgres(pg, "orders-event-relay");
      }
      if (Clock::now() - counted >= kCountEvery) {
        auto pending = conn->exec("SELECT count(*) FROM event_outbox");
        if (pending.ok()) waiting().set(static_cast<double>(pending.get_int(0, 0)));
        counted = Clock::now();
      }
      const RelayRound round = relay_outbox_once(*conn, publisher, settings);
      if (round.claimed > 0 && round.confirmed == 0) {
        pause(backoff.next());  // the broker takes nothing (down, or refusing): no busy loop
        continue;
      }
      backoff.reset();
      if (round.claimed < settings.batch) pause(settings.idle_wait);
    } catch (const std::exception& e) {
      conn.reset();
      const auto wait = backoff.next();
      spdlog::warn("event relay: {}; again in {} ms", e.what(), wait.count());
      pause(wait);
    }
  }
}

}  // namespace orders::worker
