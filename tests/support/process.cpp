#include "support/process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>
#include <thread>

#include "support/http_client.hpp"

extern char** environ;

namespace orders::testing {
using Clock = std::chrono::steady_clock;

std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string("environment variable ") + name + " is not set (run via ctest)");
  return v;
}

Process::Process(std::vector<std::string> argv, std::map<std::string, std::string> extra_env) {
  static int counter = 0;
  log_path_ = "/tmp/orders-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".log";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test that crashes takes its servers with it: one left running would consume the shared
    // broker's orders.persist for a database that is gone.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // An ignored signal stays ignored across exec: the child starts with the defaults a shell
    // or a service manager gives, whatever the test runner set for itself.
    ::signal(SIGPIPE, SIG_DFL);
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    for (const auto& [k, v] : extra_env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    signal(SIGKILL);
    wait(std::chrono::seconds(5));
  }
  // ORDERS_TEST_KEEP_LOGS=1 keeps each process's output (/tmp/orders-test-PID-N.log) to read
  // after a failure.
  const char* keep = std::getenv("ORDERS_TEST_KEEP_LOGS");
  if (keep == nullptr || std::string_view(keep) != "1") ::unlink(log_path_.c_str());
}

void Process::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!status_) {
    int raw = 0;
    pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
      break;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

bool Process::running() { return !wait(std::chrono::milliseconds(0)).has_value(); }

std::string Process::output() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> extra_env,
              std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  Process p(std::move(argv), std::move(extra_env));
  RunResult result;
  auto code = p.wait(timeout);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  result.output = p.output();
  result.code = code ? *code : -1;
  return result;
}

ApiProcess::ApiProcess(std::vector<std::string> extra_args, std::map<std::string, std::string> extra_env)
    : port_(free_port()) {
  std::vector<std::string> argv{required_env("ORDERS_BINARY"), "api", "--port", std::to_string(port_)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  // Admin routes are closed without a token (SPEC): tests that do not set ADMIN_TOKEN (even to
  // "", to see the closed default) run the API open, as a developer's machine does.
  if (!extra_env.count("ADMIN_TOKEN")) argv.emplace_back("--insecure-admin");
  process_ = std::make_unique<Process>(std::move(argv), std::move(extra_env));
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < deadline) {
    if (!process_->running()) {
      throw std::runtime_error("orders api exited early: " + process_->output());
    }
    try {
      if (http_get(port_, "/health").status == 200) return;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("orders api did not answer /health within 15 s: " + process_->output());
}

}  // namespace orders::testing
