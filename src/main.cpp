#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "app/commands.hpp"

namespace {

using namespace orders;

void add_dependency_options(CLI::App* command, config::Dependencies& deps, bool postgres, bool redis, bool rabbitmq) {
  if (postgres) {
    command->add_option("--database-url", deps.database_url, "PostgreSQL URL postgresql://user:pass@host:port/db")
        ->envname("DATABASE_URL")
        ->capture_default_str();
  }
  if (redis) {
    command->add_option("--redis-url", deps.redis_url, "Redis URL redis://[:pass@]host:port/db")
        ->envname("REDIS_URL")
        ->capture_default_str();
  }
  if (rabbitmq) {
    command->add_option("--rabbitmq-url", deps.rabbitmq_url, "RabbitMQ URL amqp://user:pass@host:port/vhost")
        ->envname("RABBITMQ_URL")
        ->capture_default_str();
  }
}

void configure_logging() {
  auto logger = spdlog::stderr_color_mt("orders");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%t] %v", spdlog::pattern_time_type::utc);
  if (const char* level = std::getenv("LOG_LEVEL")) spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"orders: sells limited stock to a crowd at the same instant, without overselling, duplicating "
               "or losing an order.\nConfiguration comes from environment variables, each overridable by a flag."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "orders 0.1.0");

  // One Dependencies per subcommand: CLI11 applies environment variables to the options of
  // every subcommand, so a shared target would let the env of one overwrite another's flag.
  config::Dependencies api_deps, worker_deps, migrate_deps, seed_deps, reconcile_deps;
  bool reconcile_fix = false;
  config::ApiSettings api;
  config::WorkerSettings worker;
  std::string migrations_dir;

  auto* api_cmd = app.add_subcommand("api", "HTTP API server");
  add_dependency_options(api_cmd, api_deps, true, true, true);
  api_cmd->add_option("--host", api.host, "Address to listen on")->envname("HOST")->capture_default_str();
  api_cmd->add_option("--port", api.port, "Port to listen on")->envname("PORT")->capture_default_str();
  api_cmd->add_option("--threads", api.threads, "I/O threads (each owns its Redis and PostgreSQL connections)")
      ->envname("API_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  api_cmd->add_option("--pg-pool-size", api.pg_pool_size, "PostgreSQL connections per I/O thread")
      ->envname("PG_POOL_SIZE")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  api_cmd->add_option("--max-connections", api.max_connections, "HTTP connections served at once; more get 503")
      ->envname("MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  api_cmd->add_option("--shutdown-grace", api.shutdown_grace_seconds, "Seconds in-flight requests get at shutdown")
      ->envname("SHUTDOWN_GRACE_SECONDS")
      ->check(CLI::Range(0, 600))
      ->capture_default_str();

  auto* worker_cmd = app.add_subcommand(
      "worker",
      "Order worker: consumes order.created from orders.persist and persists each batch of orders into PostgreSQL "
      "in one transaction (exactly once); run several");
  add_dependency_options(worker_cmd, worker_deps, true, true, true);
  worker_cmd->add_option("--prefetch", worker.prefetch, "Unacknowledged messages the broker may send ahead")
      ->envname("WORKER_PREFETCH")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  worker_cmd->add_option("--batch-size", worker.batch_size, "Orders persisted per transaction, at most")
      ->envname("WORKER_BATCH_SIZE")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  worker_cmd->add_option("--batch-wait-ms", worker.batch_wait_ms, "How long a batch waits to fill, in ms")
      ->envname("WORKER_BATCH_WAIT_MS")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  worker_cmd->add_option("--metrics-port", worker.metrics_port, "Serve GET /metrics and /health on this port (0: off)")
      ->envname("WORKER_METRICS_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  worker_cmd->add_option("--metrics-host", worker.metrics_host, "Address of the metrics endpoint")
      ->envname("WORKER_METRICS_HOST")
      ->capture_default_str();

  auto* migrate_cmd = app.add_subcommand("migrate", "Apply the SQL migrations that are missing, in order (idempotent)");
  add_dependency_options(migrate_cmd, migrate_deps, true, false, false);
  migrate_cmd->add_option("--dir", migrations_dir,
                          "Read migrations from this directory instead of the copies built into the binary")
      ->envname("MIGRATIONS_DIR");

  auto* seed_cmd = app.add_subcommand("seed", "Load the demo catalog (categories, products with stock counters, one flash sale); idempotent");
  add_dependency_options(seed_cmd, seed_deps, true, true, false);

  auto* reconcile_cmd = app.add_subcommand(
      "reconcile",
      "Compare the Redis stock counters with PostgreSQL (the record) and the ledger with the orders; exit 1 on "
      "drift. Safe while traffic flows: orders accepted but not yet persisted count as pending");
  add_dependency_options(reconcile_cmd, reconcile_deps, true, true, false);
  reconcile_cmd->add_flag("--fix", reconcile_fix, "Set drifting Redis counters from PostgreSQL and say what changed");

  CLI11_PARSE(app, argc, argv);
  configure_logging();

  if (*api_cmd) return app::run_api(api_deps, api);
  if (*worker_cmd) return app::run_worker(worker_deps, worker);
  if (*migrate_cmd) {
    std::optional<std::filesystem::path> dir;
    if (!migrations_dir.empty()) dir = migrations_dir;
    return app::run_migrate(migrate_deps, dir);
  }
  if (*seed_cmd) return app::run_seed(seed_deps);
  if (*reconcile_cmd) return app::run_reconcile(reconcile_deps, reconcile_fix);
  return 1;
}
