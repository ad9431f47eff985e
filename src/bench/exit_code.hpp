#pragma once

#include <cstdio>
#include <exception>

#include "app/commands.hpp"
#include "common/dependency_error.hpp"
#include "config/config.hpp"

namespace orders::bench {

// The body of an `orders bench` subcommand, its failure turned into the documented exit code and
// said once on stderr: a bad flag or URL 2, a dependency down 3, anything else 1.
template <typename Body>
int exit_code_of(const char* command, Body&& body) {
  try {
    return body();
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "orders bench %s: %s\n", command, e.what());
    return app::kExitConfig;
  } catch (const DependencyUnavailable& e) {
    std::fprintf(stderr, "orders bench %s: %s\n", command, e.what());
    return app::kExitUnavailable;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "orders bench %s: %s\n", command, e.what());
    return app::kExitFailure;
  }
}

}  // namespace orders::bench
