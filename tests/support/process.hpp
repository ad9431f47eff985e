#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace orders::testing {

// The value of an environment variable the test needs (set by CTest); fails the test if absent.
std::string required_env(const char* name);

// A child process with its output captured in a file; killed (by PID) when destroyed.
class Process {
 public:
  Process(std::vector<std::string> argv, std::map<std::string, std::string> extra_env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Exit code (or 128 + signal) once it has exited within the timeout, else nothing.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string output() const;  // stdout and stderr so far

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string log_path_;
};

// Runs a command to completion; returns the exit code and its combined output.
struct RunResult {
  int code = -1;
  std::string output;
  std::chrono::milliseconds elapsed{0};
};
RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> extra_env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// `orders api` on a free port against the test stack (or the URLs given), waiting until
// /health answers. Extra args are appended.
class ApiProcess {
 public:
  explicit ApiProcess(std::vector<std::string> extra_args = {}, std::map<std::string, std::string> extra_env = {});
  std::uint16_t port() const { return port_; }
  Process& process() { return *process_; }

 private:
  std::uint16_t port_;
  std::unique_ptr<Process> process_;
};

}  // namespace orders::testing
