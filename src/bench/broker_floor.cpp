#include "bench/broker_floor.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "bench/cpu_accounting.hpp"
#include "bench/exit_code.hpp"
#include "common/uuid.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "worker/confirm_wait.hpp"

namespace orders::bench {

namespace {

// An exchange and a queue of its own, so no consumer bound to `orders` ever sees a bench message
// and the third phase is truly unrouted. Both are deleted at the end.
constexpr const char* kExchange = "bench.orders";
constexpr const char* kQueue = "bench.broker";
constexpr const char* kRoutingKey = "bench.broker";
constexpr const char* kUnroutedKey = "bench.unrouted";  // no queue is bound to it
// Messages handed to the publisher at a time: bounds what the bench holds in memory (with the
// largest body, 640 MiB) while keeping far more than the publisher's window of 1,000 in flight.
constexpr std::uint64_t kChunk = 10000;

using Clock = std::chrono::steady_clock;

// One phase's figures: messages/s and µs of CPU per message by RabbitMQ, this process, the box.
struct Phase {
  CpuSample cpu = sample_cpu();
  Clock::time_point started = Clock::now();

  void report(const char* what, std::uint64_t done, std::uint64_t asked) const {
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    const CpuUse use = cpu_between(cpu, sample_cpu(), ticks_per_second());
    const double per = 1e6 / static_cast<double>(done == 0 ? 1 : done);
    std::printf(
        "%-24s %llu of %llu in %.2f s: %.0f/s; us of CPU per message: rabbitmq %.1f, this client %.1f, box %.1f\n",
        what, static_cast<unsigned long long>(done), static_cast<unsigned long long>(asked), seconds,
        static_cast<double>(done) / seconds, use.seconds[static_cast<std::size_t>(Component::kRabbitMq)] * per,
        use.seconds[static_cast<std::size_t>(Component::kLoadGenerator)] * per, use.box * per);
  }
};

// Publishes `n` persistent messages with confirms through the service's Publisher (its window of
// 1,000 outstanding), a chunk at a time; returns how many the broker confirmed.
std::uint64_t publish(rabbitmq::Publisher& publisher, const char* routing_key, std::uint64_t n,
                      const std::string& body) {
  std::uint64_t confirmed = 0;
  for (std::uint64_t sent = 0; sent < n;) {
    const std::uint64_t chunk = std::min(kChunk, n - sent);
    worker::ConfirmWait confirms;
    for (std::uint64_t i = 0; i < chunk; ++i) {
      std::string id = uuid::make_v7();
      publisher.enqueue(rabbitmq::Message{kExchange, routing_key, std::move(id), "bench", body}, confirms.completion());
    }
    confirmed += static_cast<std::uint64_t>(confirms.wait(std::chrono::minutes(2)));
    sent += chunk;
  }
  return confirmed;
}

void remove_own_topology(rabbitmq::Connection& admin) {
  rabbitmq::delete_queue(admin, kQueue);
  rabbitmq::delete_exchange(admin, kExchange);
}

}  // namespace

int run_bench_broker(const config::Dependencies& deps, const BrokerSettings& s) {
  if (s.ack_every > s.prefetch) {
    std::fprintf(stderr,
                 "orders bench broker: --ack-every (%d) must not exceed --prefetch (%d): the broker stops delivering "
                 "once --prefetch messages wait for their ack\n",
                 s.ack_every, s.prefetch);
    return app::kExitConfig;
  }
  return exit_code_of("broker", [&] {
    const std::vector<config::AmqpEndpoint> nodes = config::parse_amqp_urls(deps.rabbitmq_url);
    rabbitmq::Connection admin(nodes.front(), std::chrono::seconds(5), /*heartbeat_seconds=*/0);
    remove_own_topology(admin);  // what a stopped run left
    rabbitmq::declare_topic_exchange(admin, kExchange);
    rabbitmq::declare_persist_like_queue(admin, kQueue, kExchange, kRoutingKey);
    int rc = 1;
    try {
      rabbitmq::PublisherOptions options;
      options.max_queued = kChunk + 1;
      options.confirm_timeout = std::chrono::seconds(60);
      rabbitmq::Publisher publisher(nodes, options);
      publisher.start();
      const std::string body(static_cast<std::size_t>(s.body_bytes), 'x');
      std::printf("== %llu messages of %d bytes; quorum queue %s as orders.persist is declared, exchange %s\n",
                  static_cast<unsigned long long>(s.messages), s.body_bytes, kQueue, kExchange);

      Phase into_queue;
      const std::uint64_t confirmed = publish(publisher, kRoutingKey, s.messages, body);
      into_queue.report("publish+confirm, queued", confirmed, s.messages);

      Phase delivery;
      rabbitmq::Connection consumer(nodes.front(), std::chrono::seconds(5), /*heartbeat_seconds=*/0);
      consumer.consume(kQueue, static_cast<std::uint16_t>(s.prefetch));
      std::uint64_t received = 0;
      std::uint64_t last_tag = 0;
      while (received < confirmed) {
        std::optional<rabbitmq::Delivery> d = consumer.next_delivery(std::chrono::seconds(5));
        if (!d) break;
        last_tag = d->tag;
        if (++received % static_cast<std::uint64_t>(s.ack_every) == 0) consumer.ack(last_tag, /*multiple=*/true);
      }
      if (last_tag != 0) consumer.ack(last_tag, /*multiple=*/true);
      delivery.report("deliver+ack (multiple)", received, confirmed);

      Phase unrouted;
      const std::uint64_t dropped = publish(publisher, kUnroutedKey, s.messages, body);
      unrouted.report("publish+confirm, no queue", dropped, s.messages);
      publisher.stop();
      rc = confirmed == s.messages && received == confirmed && dropped == s.messages ? 0 : 1;
    } catch (...) {
      try {
        remove_own_topology(admin);
      } catch (const std::exception&) {
        // The broker is gone too: the next run removes them first. The first failure is the one to say.
      }
      throw;
    }
    remove_own_topology(admin);
    return rc;
  });
}

}  // namespace orders::bench
