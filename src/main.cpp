#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <map>

#include "app/commands.hpp"
#include "bench/bench_command.hpp"
#include "bench/broker_floor.hpp"
#include "bench/persist_floor.hpp"
#include "common/logging.hpp"

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
    command
        ->add_option("--redis-cluster-nodes", deps.redis_cluster_nodes,
                     "Redis Cluster seed nodes host:port,host:port,... (cluster mode; REDIS_URL then gives the "
                     "password only)")
        ->envname("REDIS_CLUSTER_NODES");
  }
  if (rabbitmq) {
    command->add_option("--rabbitmq-url", deps.rabbitmq_url, "RabbitMQ URL amqp://user:pass@host:port/vhost")
        ->envname("RABBITMQ_URL")
        ->capture_default_str();
  }
}

// Every --help ends with what the command's exit codes mean and one example (README:
// "Exit codes").
void add_footer(CLI::App* command, const std::string& codes, const std::string& example) {
  command->footer("\nExit codes: 0 " + codes +
                  "; 2 a bad flag or configuration; 3 a dependency unreachable at start.\nExample: " + example);
}

// --duration 10s, --duration-limit 2m, --request-timeout 500ms.
CLI::AsNumberWithUnit seconds_with_unit() {
  return CLI::AsNumberWithUnit(std::map<std::string, double>{{"ms", 0.001}, {"s", 1}, {"m", 60}});
}

// What the parse fills, one struct per subcommand, each with a Dependencies of its own: CLI11
// applies environment variables to the options of every subcommand, so a shared target would
// let the env of one overwrite another's flag. `cli` is the subcommand, set when registered.
struct LogSettings {
  std::string format = "text";
  std::string level = "info";
};
struct ApiCommand {
  CLI::App* cli = nullptr;
  config::Dependencies deps;
  config::ApiSettings settings;
};
struct WorkerCommand {
  CLI::App* cli = nullptr;
  config::Dependencies deps;
  config::WorkerSettings settings;
};
struct MigrateCommand {
  CLI::App* cli = nullptr;
  config::Dependencies deps;
  std::string migrations_dir;
};
struct SeedCommand {
  CLI::App* cli = nullptr;
  config::Dependencies deps;
};
struct ReconcileCommand {
  CLI::App* cli = nullptr;
  config::Dependencies deps;
  app::ReconcileOptions options;
};
struct FlashSaleCommand {
  CLI::App* cli = nullptr;
  config::Dependencies deps;
  bench::FlashSaleSettings settings;
};
struct ReadCommand {
  CLI::App* cli = nullptr;
  bench::ReadSettings settings;
};
struct BrokerCommand {
  CLI::App* cli = nullptr;
  config::Dependencies deps;
  bench::BrokerSettings settings;
};
struct PersistCommand {
  CLI::App* cli = nullptr;
  config::Dependencies deps;
  bench::PersistSettings settings;
};
struct Commands {
  LogSettings log;
  ApiCommand api;
  WorkerCommand worker;
  MigrateCommand migrate;
  SeedCommand seed;
  ReconcileCommand reconcile;
  FlashSaleCommand flash_sale;
  ReadCommand read;
  PersistCommand persist;
  BrokerCommand broker;
};

// --log-format and --log-level are the app's, but may follow the subcommand too.
void add_log_options(CLI::App& app, LogSettings& log) {
  app.add_option("--log-format", log.format, "Log lines as text for people or one JSON object per line")
      ->envname("LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", log.level, "Least severe level logged; info logs one line per HTTP request")
      ->envname("LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}))
      ->capture_default_str();
}

void add_api_command(CLI::App& app, ApiCommand& c) {
  auto& api = c.settings;
  auto* cmd = c.cli = app.add_subcommand("api", "HTTP API server");
  add_dependency_options(cmd, c.deps, true, true, true);
  cmd->add_option("--host", api.host, "Address to listen on")->envname("HOST")->capture_default_str();
  cmd->add_option("--port", api.port, "Port to listen on")->envname("PORT")->capture_default_str();
  cmd->add_option("--threads", api.threads, "I/O threads (each owns its Redis and PostgreSQL connections)")
      ->envname("API_THREADS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--pg-pool-size", api.pg_pool_size, "PostgreSQL connections per I/O thread")
      ->envname("PG_POOL_SIZE")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--max-connections", api.max_connections, "HTTP connections served at once; more get 503")
      ->envname("MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--shutdown-grace", api.shutdown_grace_seconds, "Seconds in-flight requests get at shutdown")
      ->envname("SHUTDOWN_GRACE_SECONDS")
      ->check(CLI::Range(0, 600))
      ->capture_default_str();
  cmd->add_option("--admin-token", api.admin_token,
                  "Bearer token that catalog writes and order status changes require (unset: they answer 403 "
                  "unless --insecure-admin). A flag is visible to every user in `ps`: set ADMIN_TOKEN or use "
                  "--admin-token-file instead")
      ->envname("ADMIN_TOKEN");
  cmd->add_flag("--insecure-admin", api.insecure_admin,
                "Without an admin token, open admin routes to every caller (local development only)");
  cmd->add_option("--payment-window", api.payment_window_seconds,
                  "Seconds a buyer has to pay for an order of a product that sets no paymentWindowSeconds "
                  "(0: such orders never expire)")
      ->envname("PAYMENT_WINDOW_SECONDS")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  cmd->add_option("--admin-token-file", api.admin_token_file,
                  "Read the admin token from this file (its first line), e.g. a mounted secret")
      ->envname("ADMIN_TOKEN_FILE");
  add_footer(cmd, "stopped by SIGTERM or SIGINT", "ADMIN_TOKEN=secret orders api --port 8080 --threads 2");
}

void add_worker_command(CLI::App& app, WorkerCommand& c) {
  auto& worker = c.settings;
  auto* cmd = c.cli = app.add_subcommand(
      "worker",
      "Order worker: consumes order.created from orders.persist and persists each batch of orders into PostgreSQL "
      "in one transaction (exactly once); run several");
  add_dependency_options(cmd, c.deps, true, true, true);
  cmd->add_option("--prefetch", worker.prefetch, "Unacknowledged messages the broker may send ahead")
      ->envname("WORKER_PREFETCH")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--batch-size", worker.batch_size, "Orders persisted per transaction, at most")
      ->envname("WORKER_BATCH_SIZE")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--batch-wait-ms", worker.batch_wait_ms, "How long a batch waits to fill, in ms")
      ->envname("WORKER_BATCH_WAIT_MS")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  cmd->add_option("--sweep-interval-ms", worker.sweep_interval_ms,
                  "How often the expiry sweeper looks for unpaid orders past their deadline, in ms")
      ->envname("WORKER_SWEEP_INTERVAL_MS")
      ->check(CLI::Range(50, 60000))
      ->capture_default_str();
  cmd->add_option("--sweep-batch", worker.sweep_batch, "Orders the sweeper expires per transaction, at most")
      ->envname("WORKER_SWEEP_BATCH")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--metrics-port", worker.metrics_port, "Serve GET /metrics and /health on this port (0: off)")
      ->envname("WORKER_METRICS_PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--metrics-host", worker.metrics_host, "Address of the metrics endpoint")
      ->envname("WORKER_METRICS_HOST")
      ->capture_default_str();
  add_footer(cmd, "stopped by SIGTERM or SIGINT", "orders worker --metrics-port 9102");
}

void add_migrate_command(CLI::App& app, MigrateCommand& c) {
  auto* cmd = c.cli = app.add_subcommand("migrate", "Apply the SQL migrations that are missing, in order (idempotent)");
  add_dependency_options(cmd, c.deps, true, false, false);
  cmd->add_option("--dir", c.migrations_dir,
                  "Read migrations from this directory instead of the copies built into the binary")
      ->envname("MIGRATIONS_DIR");
  add_footer(cmd, "applied (or nothing to apply); 1 a migration failed", "orders migrate");
}

void add_seed_command(CLI::App& app, SeedCommand& c) {
  auto* cmd = c.cli = app.add_subcommand(
      "seed", "Load the demo catalog (categories, products with stock counters, one flash sale); idempotent");
  add_dependency_options(cmd, c.deps, true, true, false);
  add_footer(cmd, "loaded (or already there); 1 loading failed", "orders seed");
}

void add_reconcile_command(CLI::App& app, ReconcileCommand& c) {
  auto* cmd = c.cli = app.add_subcommand(
      "reconcile",
      "Compare the Redis stock counters with PostgreSQL (the record) and the ledger with the orders; exit 1 on "
      "drift. Safe while traffic flows: orders accepted but not yet persisted count as pending. Also reports "
      "pending orders older than --stale-after that PostgreSQL lacks, and messages in orders.dead (RabbitMQ "
      "unreachable: said on stderr, the rest is still checked)");
  add_dependency_options(cmd, c.deps, true, true, true);
  cmd->add_flag("--fix", c.options.fix,
                "Set drifting Redis counters from PostgreSQL and say what changed (stale orders and dead letters "
                "are only reported)");
  cmd->add_option("--stale-after", c.options.stale_after_minutes,
                  "Minutes (0-10080) after which an order still pending in Redis and not in PostgreSQL is drift; 0 "
                  "turns the check off")
      ->check(CLI::Range(0, 10080))
      ->capture_default_str();
  add_footer(cmd, "no drift (or --fix repaired it); 1 drift found", "orders reconcile --fix");
}

void add_flash_sale_command(CLI::App* bench, FlashSaleCommand& c) {
  auto& flash_sale = c.settings;
  auto* cmd = c.cli = bench->add_subcommand(
      "flash-sale",
      "Create products through the API, fire purchases from distinct users (a share retried with the same "
      "Idempotency-Key), wait for the workers, report decisions/s and latency, and check G1-G5 against PostgreSQL "
      "and Redis; exit 1 if a check fails. ADMIN_TOKEN, when set, authorizes creating the products");
  add_dependency_options(cmd, c.deps, true, true, false);
  cmd->add_option("--url", flash_sale.urls, "API base URL(s), comma-separated; connections go round robin")->required();
  cmd->add_option("--products", flash_sale.products, "Products on sale, bought round robin")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--stock", flash_sale.stock, "Units of each product")
      ->check(CLI::Range(0LL, 1000000000LL))
      ->capture_default_str();
  cmd->add_option("--stock-buckets", flash_sale.stock_buckets,
                  "The products' stockBuckets: on Redis Cluster each product's stock is split over this many slots")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--buyers", flash_sale.buyers, "Purchases of one unit, each from a user of its own")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}))
      ->capture_default_str();
  cmd->add_option("--connections", flash_sale.connections, "Keep-alive connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--retry-share", flash_sale.retry_share,
                  "Share of the keys sent twice: half at once on another connection, half after the answer")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--duration-limit", flash_sale.duration_limit_seconds,
                  "Bound of the firing and, again, of the wait for the workers (e.g. 120s, 2m)")
      ->transform(seconds_with_unit())
      ->capture_default_str();
  cmd->add_option("--request-timeout", flash_sale.request_timeout_seconds,
                  "An answer slower than this counts as none (e.g. 10s)")
      ->transform(seconds_with_unit())
      ->capture_default_str();
  cmd->add_option("--drain-stall", flash_sale.drain_stall_seconds,
                  "Give up waiting for the workers after this long without progress (e.g. 10s, 1m)")
      ->transform(seconds_with_unit())
      ->capture_default_str();
  cmd->add_option("--threads", flash_sale.threads, "Client threads, each with its share of the connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--pay-share", flash_sale.pay_share,
                  "Share of the accepted orders paid at random moments inside their payment window; the rest "
                  "expires, a second wave of buyers buys the units back, and G7 is checked. 0: off")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--payment-window", flash_sale.payment_window_seconds,
                  "paymentWindowSeconds of the products, in seconds (1..86400); needed with --pay-share")
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--report", flash_sale.report,
                  "Draw the run into this file (.svg, or .html with the figures): answers/s and p50/p99 per "
                  "second, accepted vs refused, the drain behind the firing");
  cmd->add_flag("--json", flash_sale.json, "Print one JSON object instead of the text report");
  add_footer(cmd, "every check passed; 1 a check failed",
             "orders bench flash-sale --url http://127.0.0.1:8080 --stock 10000 --buyers 100000");
}

void add_read_command(CLI::App* bench, ReadCommand& c) {
  auto& read = c.settings;
  auto* cmd = c.cli = bench->add_subcommand(
      "read",
      "Create products, warm their cache, then GET /api/products/{id} round robin for --duration; report "
      "req/s, latency, answers and the X-Cache HIT share");
  cmd->add_option("--url", read.urls, "API base URL(s), comma-separated; connections go round robin")->required();
  cmd->add_option("--connections", read.connections, "Keep-alive connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--duration", read.duration_seconds, "How long to read (e.g. 10s)")
      ->transform(seconds_with_unit())
      ->capture_default_str();
  cmd->add_option("--products", read.products, "Products read round robin")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--path", read.path, "GET this path instead of creating products (e.g. /health, the HTTP ceiling)");
  cmd->add_option("--request-timeout", read.request_timeout_seconds,
                  "An answer slower than this counts as none (e.g. 10s)")
      ->transform(seconds_with_unit())
      ->capture_default_str();
  cmd->add_option("--threads", read.threads, "Client threads, each with its share of the connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--report", read.report,
                  "Draw the run into this file (.svg, or .html with the figures): answers/s and p50/p99 per second");
  cmd->add_flag("--json", read.json, "Print one JSON object instead of the text report");
  add_footer(cmd, "the run finished", "orders bench read --url http://127.0.0.1:8080 --duration 10s");
}

void add_persist_command(CLI::App* bench, PersistCommand& c) {
  auto& persist = c.settings;
  auto* cmd = c.cli = bench->add_subcommand(
      "persist",
      "PostgreSQL's cost of the workers' transaction alone: synthetic orders of one product through the worker's "
      "persist_batch, one connection, no Redis or RabbitMQ; report orders/s and us of CPU per order. Writes a "
      "product and its orders: give it a database of its own (bench/persist.sh)");
  add_dependency_options(cmd, c.deps, true, false, false);
  cmd->add_option("--orders", persist.orders, "Orders to persist")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}))
      ->capture_default_str();
  cmd->add_option("--batch", persist.batch, "Orders per transaction (the worker's --batch-size)")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  cmd->add_option("--keyed-share", persist.keyed_share, "Share of the orders with an Idempotency-Key")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  add_footer(cmd, "every order persisted", "orders bench persist --orders 100000 --batch 500");
}

void add_broker_command(CLI::App* bench, BrokerCommand& c) {
  auto& broker = c.settings;
  auto* cmd = c.cli = bench->add_subcommand(
      "broker",
      "RabbitMQ's cost of an order's messages alone, through the service's publisher and consumer: persistent "
      "publishes with confirms into a quorum queue declared as orders.persist is, on an exchange of its own (both "
      "deleted at the end), their delivery with multiple-acks, and confirmed publishes no queue is bound to; "
      "messages/s and us of CPU per "
      "message for each");
  add_dependency_options(cmd, c.deps, false, false, true);
  cmd->add_option("--messages", broker.messages, "Messages per phase")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10000000}))
      ->capture_default_str();
  cmd->add_option("--body-bytes", broker.body_bytes, "Bytes of each message's body (an order's event is under 64 KiB)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  cmd->add_option("--prefetch", broker.prefetch, "Unacknowledged deliveries at most (the worker's --prefetch)")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  cmd->add_option("--ack-every", broker.ack_every, "Deliveries per multiple-ack (the worker's batch)")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  add_footer(cmd, "every message confirmed and delivered", "orders bench broker --messages 100000");
}

// orders bench flash-sale | read | persist | broker: load generators (SPEC section 9).
void add_bench_command(CLI::App& app, FlashSaleCommand& flash_sale, ReadCommand& read, PersistCommand& persist,
                       BrokerCommand& broker) {
  auto* cmd = app.add_subcommand("bench", "Load generators that measure the API and check the guarantees");
  cmd->require_subcommand(1);
  add_flash_sale_command(cmd, flash_sale);
  add_read_command(cmd, read);
  add_persist_command(cmd, persist);
  add_broker_command(cmd, broker);
  add_footer(cmd, "the run passed; 1 a check failed", "orders bench flash-sale --help");
}

// Registers every subcommand, in the order --help lists them.
void add_commands(CLI::App& app, Commands& c) {
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", "orders 0.1.0");
  add_log_options(app, c.log);
  add_api_command(app, c.api);
  add_worker_command(app, c.worker);
  add_migrate_command(app, c.migrate);
  add_seed_command(app, c.seed);
  add_reconcile_command(app, c.reconcile);
  add_bench_command(app, c.flash_sale, c.read, c.persist, c.broker);
  add_footer(&app, "success; 1 the command failed (reconcile: drift; bench: a failed check)", "orders api --help");
}

// Runs the subcommand the parse chose.
int run_command(const Commands& c) {
  if (*c.api.cli) return app::run_api(c.api.deps, c.api.settings);
  if (*c.worker.cli) return app::run_worker(c.worker.deps, c.worker.settings);
  if (*c.migrate.cli) {
    std::optional<std::filesystem::path> dir;
    if (!c.migrate.migrations_dir.empty()) dir = c.migrate.migrations_dir;
    return app::run_migrate(c.migrate.deps, dir);
  }
  if (*c.seed.cli) return app::run_seed(c.seed.deps);
  if (*c.reconcile.cli) return app::run_reconcile(c.reconcile.deps, c.reconcile.options);
  if (*c.flash_sale.cli) return bench::run_bench_flash_sale(c.flash_sale.deps, c.flash_sale.settings);
  if (*c.read.cli) return bench::run_bench_read(c.read.settings);
  if (*c.persist.cli) return bench::run_bench_persist(c.persist.deps, c.persist.settings);
  if (*c.broker.cli) return bench::run_bench_broker(c.broker.deps, c.broker.settings);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // hiredis writes with write(2), not send(..., MSG_NOSIGNAL): a write to a Redis that died
  // (a killed master, its socket closed under a pipelined write) would raise SIGPIPE, whose
  // default action ends the process without a word. Ignored, the write fails with EPIPE and
  // the client reconnects as for any lost connection, as Redis and nginx themselves do.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "orders: sells limited stock to a crowd at the same instant, without overselling, duplicating "
      "or losing an order.\nConfiguration comes from environment variables, each overridable by a flag."};
  Commands commands;
  add_commands(app, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);              // prints the message and the hint to --help
    return app::kExitConfig;  // one code for every bad flag, not CLI11's 100+
  }
  const auto& log = commands.log;
  logging::configure(*logging::parse_format(log.format), log.level == "warning" ? "warn" : log.level);
  return run_command(commands);
}
