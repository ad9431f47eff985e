#pragma once

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <optional>
#include <string_view>

#include "common/logging.hpp"
#include "config/config.hpp"

// The `orders` subcommands. Each returns the process exit code:
// 0 success, 1 failure, 2 bad configuration, 3 a dependency is unreachable at start.
namespace orders::app {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfig = 2;
inline constexpr int kExitUnavailable = 3;

struct ReconcileOptions {
  bool fix = false;
  // A pending order record older than this that PostgreSQL does not hold is drift; 0: not checked.
  int stale_after_minutes = 10;
};

int run_api(const config::Dependencies& deps, const config::ApiSettings& settings);
int run_worker(const config::Dependencies& deps, const config::WorkerSettings& settings);
int run_migrate(const config::Dependencies& deps, const std::optional<std::filesystem::path>& dir);
int run_seed(const config::Dependencies& deps);
int run_reconcile(const config::Dependencies& deps, const ReconcileOptions& options);

// An error of the one-shot commands (migrate, seed, reconcile): "orders COMMAND: message" on
// stderr in text mode, an spdlog error line (one JSON object with LOG_FORMAT=json) otherwise,
// so a log shipper reading the JSON summaries on stdout reads the errors as JSON too.
inline void report_error(std::string_view command, std::string_view message) {
  if (logging::format() == logging::Format::kJson) spdlog::error("orders {}: {}", command, message);
  else std::cerr << "orders " << command << ": " << message << '\n';
}

}  // namespace orders::app
