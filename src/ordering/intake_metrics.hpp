#pragma once

#include "metrics/registry.hpp"

namespace orders::ordering {

// The purchase path's metrics, shared by the intake and the outbox relay.
struct OrderingMetrics {
  metrics::Counter& accepted = metrics::registry().counter("orders_accepted_total", "Purchases answered 202").with({});
  metrics::Family<metrics::Counter>& rejected = metrics::registry().counter("orders_rejected_total",
                                                                            "Purchases refused, by reason", {"reason"});
  metrics::Family<metrics::Counter>& confirms = metrics::registry().counter(
      "orders_publish_confirms_total", "order.created publishes by broker outcome", {"result"});
  metrics::Counter& replayed = metrics::registry()
                                   .counter("orders_idempotent_replays_total",
                                            "Purchases answered from the idempotency record")
                                   .with({});
  metrics::Counter& republished = metrics::registry()
                                      .counter("orders_outbox_republished_total",
                                               "Outbox entries the relay published again")
                                      .with({});
  metrics::Gauge& outbox_depth =
      metrics::registry().gauge("orders_outbox_depth", "Orders reserved but not yet confirmed by the broker").with({});
  metrics::Histogram& reservation = metrics::registry()
                                        .histogram("orders_reservation_duration_seconds",
                                                   "The reservation script's round trip", {})
                                        .with({});
};

inline OrderingMetrics& ordering_metrics() {
  static OrderingMetrics m;
  return m;
}

}  // namespace orders::ordering
