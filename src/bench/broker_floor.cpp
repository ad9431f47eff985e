#include "bench/broker_floor.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include "bench/cpu_accounting.hpp"
#include "common/uuid.hpp"
#include "storage/rabbitmq/connection.hpp"
#include "storage/rabbitmq/publisher.hpp"
#include "worker/confirm_wait.hpp"

namespace orders::bench {

namespace {

constexpr const char* kQueue = "bench.broker";
constexpr const char* kRoutingKey = "bench.broker";
constexpr const char* kUnroutedKey = "bench.unrouted";  // no queue is bound to it

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
// 1,000 outstanding); returns how many the broker confirmed.
std::uint64_t publish(rabbitmq::Publisher& publisher, const char* routing_key, std::uint64_t n,
                      const std::string& body) {
  worker::ConfirmWait confirms;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string id = uuid::make_v7();
    publisher.enqueue(rabbitmq::Message{"orders", routing_key, std::move(id), "bench", body}, confirms.completion());
  }
  return static_cast<std::uint64_t>(confirms.wait(std::chrono::minutes(5)));
}

}  // namespace

int run_bench_broker(const config::Dependencies& deps, const BrokerSettings& s) {
  try {
    const config::AmqpEndpoint endpoint = config::parse_amqp_url(deps.rabbitmq_url);
    rabbitmq::Connection admin(endpoint, std::chrono::seconds(5), /*heartbeat_seconds=*/0);
    rabbitmq::declare_topology(admin);
    rabbitmq::delete_queue(admin, kQueue);  // what a stopped run left
    rabbitmq::declare_persist_like_queue(admin, kQueue, kRoutingKey);

    rabbitmq::PublisherOptions options;
    options.max_queued = static_cast<std::size_t>(s.messages) + 1;
    options.confirm_timeout = std::chrono::seconds(60);
    rabbitmq::Publisher publisher(endpoint, options);
    publisher.start();
    const std::string body(static_cast<std::size_t>(s.body_bytes), 'x');
    std::printf("== %llu messages of %d bytes; quorum queue %s as orders.persist is declared\n",
                static_cast<unsigned long long>(s.messages), s.body_bytes, kQueue);

    Phase into_queue;
    const std::uint64_t confirmed = publish(publisher, kRoutingKey, s.messages, body);
    into_queue.report("publish+confirm, queued", confirmed, s.messages);

    Phase delivery;
    rabbitmq::Connection consumer(endpoint, std::chrono::seconds(5), /*heartbeat_seconds=*/0);
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
    rabbitmq::delete_queue(admin, kQueue);
    return confirmed == s.messages && received == confirmed && dropped == s.messages ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "orders bench broker: %s\n", e.what());
    return 1;
  }
}

}  // namespace orders::bench
