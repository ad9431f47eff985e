#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "common/uuid.hpp"
#include "config/config.hpp"
#include "support/api_helpers.hpp"
#include "support/http_client.hpp"
#include "support/private_redis_cluster.hpp"
#include "support/process.hpp"

namespace orders::testing {

// A database of its own on the test stack's PostgreSQL, migrated: reconcile reports on every
// product of the record, and the shared database holds products other tests bent on purpose.
struct MigratedDatabase {
  MigratedDatabase() {
    name = "own_" + orders::uuid::make_v7().substr(24);
    psql("CREATE DATABASE " + name);
    auto base = orders::config::parse_postgres_url(required_env("DATABASE_URL"));
    url = "postgresql://" + base.user + ":" + base.password + "@" + base.host + ":" + std::to_string(base.port) + "/" +
          name;
    auto migrated = run({required_env("ORDERS_BINARY"), "migrate", "--database-url", url});
    if (migrated.code != 0) throw std::runtime_error("migrate failed: " + migrated.output);
  }
  ~MigratedDatabase() { psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }
  std::string query(const std::string& sql) const {
    std::string out = shell({"psql", url, "-tAc", sql});
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::string name, url;
};

// A redis-server of its own that writes every command to its append-only file before it
// answers, so it can be SIGSTOPped, SIGKILLed while stopped (what it had not executed is
// lost, what it had is kept) and started again on the same port with its data.
class DurableRedis {
 public:
  DurableRedis() : port_(free_port()) {
    dir_ = std::filesystem::temp_directory_path() / ("orders-redis-" + orders::uuid::make_v7().substr(24));
    std::filesystem::create_directories(dir_);
    start();
  }
  ~DurableRedis() {
    if (process_) {
      process_->signal(SIGCONT);
      process_.reset();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void start() {
    process_ = std::make_unique<Process>(
        std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir",
                                 dir_.string(), "--save", "", "--appendonly", "yes", "--appendfsync", "always"});
    for (int i = 0; i < 200; ++i) {
      if (cli({"ping"}) == "PONG") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("redis did not start: " + process_->output());
  }
  void stop_signal() { process_->signal(SIGSTOP); }
  // SIGKILL (it dies even while stopped) and wait for it.
  void kill() {
    process_->signal(SIGKILL);
    process_->wait(std::chrono::seconds(5));
  }
  std::string cli(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"redis-cli", "-p", std::to_string(port_)};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = shell(argv);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

 private:
  std::uint16_t port_;
  std::filesystem::path dir_;
  std::unique_ptr<Process> process_;
};

// The Redis of a fault test in the mode of its run: a DurableRedis, or, when the suite runs on
// the clusters (cluster.*), a durable private Redis Cluster (port base 20490) whose every node
// is stopped, killed and started together, so a command sent while it is stopped is lost as on
// one Redis (no replica takes over: no node saw another fail).
class StoppableRedis {
 public:
  StoppableRedis() {
    if (cluster_mode()) cluster_ = std::make_unique<PrivateRedisCluster>(20490, /*durable=*/true);
    else single_ = std::make_unique<DurableRedis>();
  }
  // The flags that point an `orders` process at it.
  std::vector<std::string> args() const {
    if (cluster_) return {"--redis-cluster-nodes", cluster_->seeds()};
    return {"--redis-url", single_->url()};
  }
  // redis-cli (following the cluster's redirections).
  std::string cli(const std::vector<std::string>& args) const {
    if (single_) return single_->cli(args);
    std::vector<std::string> argv{"-c"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out = cluster_->cli(cluster_->port(0), argv);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  void stop_signal() {
    if (single_) single_->stop_signal();
    else cluster_->stop_all();
  }
  void kill() {
    if (single_) single_->kill();
    else cluster_->kill_all();
  }
  void start() {
    if (single_) single_->start();
    else cluster_->start_all();
  }

 private:
  std::unique_ptr<DurableRedis> single_;
  std::unique_ptr<PrivateRedisCluster> cluster_;
};

}  // namespace orders::testing
