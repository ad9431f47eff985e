#pragma once

#include <filesystem>
#include <optional>

#include "config/config.hpp"

// The `orders` subcommands. Each returns the process exit code:
// 0 success, 1 failure, 2 bad configuration, 3 a dependency is unreachable at start.
namespace orders::app {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitConfig = 2;
inline constexpr int kExitUnavailable = 3;

int run_api(const config::Dependencies& deps, const config::ApiSettings& settings);
int run_worker(const config::Dependencies& deps, const config::WorkerSettings& settings);
int run_migrate(const config::Dependencies& deps, const std::optional<std::filesystem::path>& dir);
int run_seed(const config::Dependencies& deps);
int run_reconcile(const config::Dependencies& deps, bool fix);

}  // namespace orders::app
