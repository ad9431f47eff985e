#pragma once

#include <signal.h>

#include <memory>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace orders::testing {

// A private redis-server on a free port, so a test can stop and restart "Redis" without
// disturbing the shared test stack.
class PrivateRedis {
 public:
  // `extra_args` go to redis-server (e.g. {"--maxmemory", "16mb"}).
  explicit PrivateRedis(std::vector<std::string> extra_args = {})
      : port_(free_port()), extra_args_(std::move(extra_args)) {
    start();
  }
  void start() {
    std::vector<std::string> argv{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                  "--save",       "",       "--appendonly",        "no"};
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    process_ = std::make_unique<Process>(std::move(argv));
    for (int i = 0; i < 200; ++i) {
      if (run({"redis-cli", "-p", std::to_string(port_), "ping"}).output.find("PONG") != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("private redis did not start: " + process_->output());
  }
  void kill() {
    process_->signal(SIGKILL);
    process_->wait(std::chrono::seconds(5));
  }
  void signal(int sig) const { process_->signal(sig); }
  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

 private:
  std::uint16_t port_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<Process> process_;
};

}  // namespace orders::testing
