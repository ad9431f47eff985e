#pragma once

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"

namespace orders::testing {

// A private Redis Cluster of 3 masters and 3 replicas on 127.0.0.1:base..base+5 (cluster buses
// on +10000), started as child processes and killed by PID when destroyed, with the settings of
// scripts/stack.sh's cluster mode (cluster-node-timeout 1000, no full coverage required). The
// fixed ports and their buses (+10000) stay below the kernel's ephemeral range (32768-60999),
// where a client connection could hold one: base 20460 by default.
class PrivateRedisCluster {
 public:
  // `durable`: every node writes each command to its append-only file before it answers, so
  // the whole cluster can be SIGSTOPped, SIGKILLed while stopped and started again with its data.
  explicit PrivateRedisCluster(int base = 20460, bool durable = false) : base_(base), durable_(durable) {
    dir_ = std::filesystem::temp_directory_path() / ("orders-redis-cluster-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    nodes_.resize(6);
    for (int i = 0; i < 6; ++i) start(port(i));
    std::vector<std::string> create{"redis-cli", "--cluster", "create"};
    for (int i = 0; i < 6; ++i) create.push_back("127.0.0.1:" + std::to_string(port(i)));
    for (std::string a : {"--cluster-replicas", "1", "--cluster-yes"}) create.push_back(a);
    RunResult created = run(create, {}, std::chrono::seconds(60));
    if (created.code != 0) throw std::runtime_error("redis-cli --cluster create failed: " + created.output);
    wait_ok(std::chrono::seconds(60));
  }
  ~PrivateRedisCluster() {
    nodes_.clear();  // kills every node
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  PrivateRedisCluster(const PrivateRedisCluster&) = delete;
  PrivateRedisCluster& operator=(const PrivateRedisCluster&) = delete;

  int port(int i) const { return base_ + i; }
  // "127.0.0.1:base,..." as REDIS_CLUSTER_NODES, `n` seeds (all six by default).
  std::string seeds(int n = 6) const {
    std::string s;
    for (int i = 0; i < n; ++i) s += (s.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(port(i));
    return s;
  }

  // redis-cli against one node.
  std::string cli(int node_port, std::vector<std::string> args) const {
    std::vector<std::string> argv{"redis-cli", "-p", std::to_string(node_port)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, std::chrono::seconds(10)).output;
  }

  // The port of the master serving `slot`, by CLUSTER NODES of a node that answers; 0 if none.
  int master_of_slot(int slot) const {
    for (int i = 0; i < 6; ++i) {
      std::istringstream lines(cli(port(i), {"cluster", "nodes"}));
      std::string line;
      bool any = false;
      while (std::getline(lines, line)) {
        any = true;
        std::istringstream f(line);
        std::vector<std::string> w;
        for (std::string x; f >> x;) w.push_back(x);
        if (w.size() < 9 || w[2].find("master") == std::string::npos || w[2].find("fail") != std::string::npos)
          continue;
        for (std::size_t k = 8; k < w.size(); ++k) {
          if (w[k].starts_with("[")) continue;
          const auto dash = w[k].find('-');
          const int lo = std::stoi(w[k].substr(0, dash));
          const int hi = dash == std::string::npos ? lo : std::stoi(w[k].substr(dash + 1));
          if (lo <= slot && slot <= hi) return std::stoi(w[1].substr(w[1].find(':') + 1, w[1].find('@')));
        }
      }
      if (any) return 0;
    }
    return 0;
  }

  void kill(int node_port) {
    auto& p = nodes_.at(node_port - base_);
    p->signal(SIGKILL);
    p->wait(std::chrono::seconds(5));
  }
  // Every node at once: SIGSTOP (no node sees another fail, so nothing fails over), SIGKILL
  // (stopped or not), and started again until the cluster is ok.
  void stop_all() {
    for (auto& p : nodes_) p->signal(SIGSTOP);
  }
  void kill_all() {
    for (int i = 0; i < 6; ++i) kill(port(i));
  }
  void start_all() {
    for (int i = 0; i < 6; ++i) start(port(i));
    wait_ok(std::chrono::seconds(60));
  }
  void start(int node_port) {
    const auto d = dir_ / std::to_string(node_port);
    std::filesystem::create_directories(d);
    nodes_.at(node_port - base_) = std::make_unique<Process>(std::vector<std::string>{"redis-server",
                                                                                      "--port",
                                                                                      std::to_string(node_port),
                                                                                      "--bind",
                                                                                      "127.0.0.1",
                                                                                      "--cluster-enabled",
                                                                                      "yes",
                                                                                      "--cluster-config-file",
                                                                                      "nodes.conf",
                                                                                      "--cluster-node-timeout",
                                                                                      "1000",
                                                                                      "--cluster-require-full-coverage",
                                                                                      "no",
                                                                                      "--appendonly",
                                                                                      durable_ ? "yes" : "no",
                                                                                      "--appendfsync",
                                                                                      "always",
                                                                                      "--save",
                                                                                      "",
                                                                                      "--repl-diskless-sync-delay",
                                                                                      "0",
                                                                                      "--dir",
                                                                                      d.string()});
    for (int i = 0; i < 400; ++i) {
      if (cli(node_port, {"ping"}).find("PONG") != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("cluster node " + std::to_string(node_port) + " did not start");
  }

  // Every live node says cluster_state:ok, and every live replica has finished its sync with its
  // master (a replica still in its first sync cannot take over when its master dies).
  void wait_ok(std::chrono::seconds limit) const {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      bool all = true;
      for (int i = 0; i < 6 && all; ++i) {
        const std::string info = cli(port(i), {"cluster", "info"});
        if (info.find("Connection refused") != std::string::npos) continue;
        const std::string replication = cli(port(i), {"info", "replication"});
        all = info.find("cluster_state:ok") != std::string::npos &&
              (replication.find("role:slave") == std::string::npos ||
               replication.find("master_link_status:up") != std::string::npos);
      }
      if (all) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("Redis Cluster not ok within " + std::to_string(limit.count()) + " s");
  }

 private:
  int base_;
  bool durable_ = false;
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<Process>> nodes_;
};

}  // namespace orders::testing
