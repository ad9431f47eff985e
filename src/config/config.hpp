#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace orders::config {

// A configuration value that cannot be used; the message names the setting.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PostgresEndpoint {
  std::string host;
  std::uint16_t port = 5432;
  std::string user;
  std::string password;
  std::string database;
  std::string conninfo;  // the URL as libpq takes it
  std::string display() const { return host + ":" + std::to_string(port) + "/" + database; }
};

struct RedisEndpoint {
  std::string host;
  std::uint16_t port = 6379;
  int db = 0;
  std::string username;
  std::string password;
  std::string display() const { return host + ":" + std::to_string(port) + "/" + std::to_string(db); }
};

struct AmqpEndpoint {
  std::string host;
  std::uint16_t port = 5672;
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  std::string display() const { return host + ":" + std::to_string(port) + vhost_path(); }
  std::string vhost_path() const { return vhost == "/" ? "/" : "/" + vhost; }
};

// `name` is the setting's name (e.g. "DATABASE_URL") used in error messages.
PostgresEndpoint parse_postgres_url(std::string_view url, std::string_view name = "DATABASE_URL");
RedisEndpoint parse_redis_url(std::string_view url, std::string_view name = "REDIS_URL");
AmqpEndpoint parse_amqp_url(std::string_view url, std::string_view name = "RABBITMQ_URL");
// The nodes of one RabbitMQ cluster (or a single broker): RABBITMQ_URL may list several URLs
// separated by commas (spaces around them allowed). Clients try them in order and go on to the
// next when one does not answer or its connection fails. An empty item, a repeated node or a
// bad URL is an error naming the item.
std::vector<AmqpEndpoint> parse_amqp_urls(std::string_view urls, std::string_view name = "RABBITMQ_URL");

// Defaults point at the local stack that scripts/stack.sh starts.
inline constexpr std::string_view kDefaultDatabaseUrl = "postgresql://orders:orders@127.0.0.1:15432/orders";
inline constexpr std::string_view kDefaultRedisUrl = "redis://127.0.0.1:15479/0";
inline constexpr std::string_view kDefaultRabbitmqUrl = "amqp://orders:orders@127.0.0.1:15472/";

// REDIS_CLUSTER_NODES: "host:port,host:port,..." seed nodes of a Redis Cluster (the rest is
// discovered); set, it switches to cluster mode and REDIS_URL gives only the credentials (its
// database must be 0). An empty item, a bad port or a repeat is an error naming the item.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
std::vector<HostPort> parse_host_ports(std::string_view list, std::string_view name = "REDIS_CLUSTER_NODES");

struct Dependencies {
  std::string database_url{kDefaultDatabaseUrl};
  std::string redis_url{kDefaultRedisUrl};
  std::string redis_cluster_nodes;  // empty: one Redis, REDIS_URL
  std::string rabbitmq_url{kDefaultRabbitmqUrl};
};

struct ApiSettings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 2;              // I/O threads, each with its own Redis connection and PostgreSQL pool
  int pg_pool_size = 4;         // PostgreSQL connections per I/O thread
  int max_connections = 10000;  // HTTP connections beyond this are answered 503
  int shutdown_grace_seconds = 10;
  std::string admin_token;         // empty: admin routes answer 403, unless insecure_admin
  std::string admin_token_file;    // when set, the token is this file's first line
  bool insecure_admin = false;     // --insecure-admin: no token opens admin routes (local development)
  int payment_window_seconds = 0;  // PAYMENT_WINDOW_SECONDS for products that set none; 0: none
};

struct WorkerSettings {
  int prefetch = 1000;
  int batch_size = 500;
  int batch_wait_ms = 5;
  std::string metrics_host = "127.0.0.1";
  int metrics_port = 0;          // 0: no HTTP endpoint
  int sweep_interval_ms = 1000;  // how often the expiry sweeper looks for orders past their deadline
  int sweep_batch = 500;         // orders expired per transaction, at most
};

}  // namespace orders::config
