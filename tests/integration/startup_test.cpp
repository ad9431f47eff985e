#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"

using namespace orders::testing;

namespace {

std::string closed_port_url(const std::string& scheme_and_auth, const std::string& path) {
  return scheme_and_auth + "127.0.0.1:" + std::to_string(free_port()) + path;
}

// The output without the trailing newline, which must be a single line.
std::string single_line(const std::string& output) {
  std::string s = output;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  EXPECT_EQ(s.find('\n'), std::string::npos) << "more than one line: " << output;
  return s;
}

// Whether the process ignores SIGPIPE, from the SigIgn mask in /proc/PID/status.
bool ignores_sigpipe(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigIgn:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGPIPE - 1)) & 1;
  }
  ADD_FAILURE() << "no SigIgn line in /proc/" << pid << "/status";
  return false;
}

}  // namespace

TEST(Startup, UnreachablePostgresIsOneLineNamingItAndNonZeroWithin5s) {
  auto r = run({required_env("ORDERS_BINARY"), "api", "--database-url",
                closed_port_url("postgresql://orders:orders@", "/orders")},
               {}, std::chrono::seconds(10));
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_LT(r.elapsed, std::chrono::seconds(5));
  std::string line = single_line(r.output);
  EXPECT_NE(line.find("PostgreSQL"), std::string::npos) << line;
}

TEST(Startup, UnreachableRedisIsOneLineNamingIt) {
  auto r = run({required_env("ORDERS_BINARY"), "api", "--redis-url", closed_port_url("redis://", "/0")}, {},
               std::chrono::seconds(10));
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_LT(r.elapsed, std::chrono::seconds(5));
  EXPECT_NE(single_line(r.output).find("Redis"), std::string::npos) << r.output;
}

TEST(Startup, UnreachableRabbitmqIsOneLineNamingIt) {
  auto r = run({required_env("ORDERS_BINARY"), "api", "--rabbitmq-url", closed_port_url("amqp://orders:orders@", "/")},
               {}, std::chrono::seconds(10));
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_LT(r.elapsed, std::chrono::seconds(5));
  EXPECT_NE(single_line(r.output).find("RabbitMQ"), std::string::npos) << r.output;
}

TEST(Startup, WrongRabbitmqPasswordIsOneLineNamingIt) {
  std::string url = required_env("RABBITMQ_URL");
  url.replace(url.find("orders:orders"), 13, "orders:wrong");
  auto r = run({required_env("ORDERS_BINARY"), "worker", "--rabbitmq-url", url}, {}, std::chrono::seconds(10));
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(single_line(r.output).find("RabbitMQ"), std::string::npos) << r.output;
}

TEST(Startup, MalformedUrlFromEnvironmentNamesTheVariable) {
  auto r = run({required_env("ORDERS_BINARY"), "api"}, {{"REDIS_URL", "http://nope"}}, std::chrono::seconds(10));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(single_line(r.output).find("REDIS_URL"), std::string::npos) << r.output;
}

TEST(Startup, PortInUseIsOneLineError) {
  ApiProcess first;
  auto r = run({required_env("ORDERS_BINARY"), "api", "--port", std::to_string(first.port())}, {},
               std::chrono::seconds(10));
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())), std::string::npos) << r.output;
}

TEST(Startup, HelpListsEverySubcommand) {
  auto r = run({required_env("ORDERS_BINARY"), "--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* sub : {"api", "worker", "migrate", "seed"}) {
    EXPECT_NE(r.output.find(sub), std::string::npos) << sub;
  }
  auto api = run({required_env("ORDERS_BINARY"), "api", "--help"});
  EXPECT_EQ(api.code, 0);
  for (const char* flag : {"--database-url", "--redis-url", "--rabbitmq-url", "--port", "--host", "--threads"}) {
    EXPECT_NE(api.output.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(api.output.find("DATABASE_URL"), std::string::npos);
}

TEST(Startup, WorkerConnectsAndStopsOnSigterm) {
  Process worker({required_env("ORDERS_BINARY"), "worker"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (worker.output().find("worker connected") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(worker.running()) << worker.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(worker.output().find("worker connected"), std::string::npos) << worker.output();
  worker.signal(SIGTERM);
  auto code = worker.wait(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << worker.output();
}

// hiredis writes with write(2): with SIGPIPE at its default, a write on a connection a killed
// Redis master closed ended the process silently (the cluster drill saw `orders api` exit with
// status 141). The API and the worker run with it ignored and see EPIPE instead.
TEST(Startup, ApiAndWorkerIgnoreSigpipeSoADeadPeerIsAnErrorNotAnExit) {
  ApiProcess api;
  EXPECT_TRUE(ignores_sigpipe(api.process().pid()));
  Process worker({required_env("ORDERS_BINARY"), "worker"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (worker.output().find("worker connected") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(worker.running()) << worker.output();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(ignores_sigpipe(worker.pid())) << worker.output();
}

TEST(Startup, BadFlagsExitWith2AndEveryHelpListsExitCodesWithAnExample) {
  const std::string bin = required_env("ORDERS_BINARY");
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{{bin, "--no-such-flag"},
                                             {bin, "api", "--port", "not-a-port"},
                                             {bin, "api", "--threads", "0"},
                                             {bin, "worker", "--prefetch"},
                                             {bin, "nonsense"},
                                             {bin}}) {
    auto r = run(argv);
    EXPECT_EQ(r.code, 2) << argv.back() << ": " << r.output;
  }
  for (const char* sub : {"api", "worker", "migrate", "seed", "reconcile"}) {
    auto r = run({bin, sub, "--help"});
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.output.find("Exit codes: 0 "), std::string::npos) << sub << ":\n" << r.output;
    EXPECT_NE(r.output.find("2 a bad flag or configuration"), std::string::npos) << sub;
    EXPECT_NE(r.output.find("Example: " + std::string("")), std::string::npos) << sub;
  }
  auto bench = run({bin, "bench", "flash-sale", "--help"});
  EXPECT_NE(bench.output.find("1 a check failed"), std::string::npos) << bench.output;
}
