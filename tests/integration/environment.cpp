#include <cstdlib>

#include "support/test_env.hpp"

// Point every integration test at the test stack (ports of its own), whatever the shell has:
// the single-node stack's file, or the one ORDERS_TEST_ENV names (the cluster run of the
// acceptance suite, tests/CMakeLists.txt).
namespace {
const bool kLoaded = [] {
  const char* chosen = std::getenv("ORDERS_TEST_ENV");
  orders::testing::load_env_file(chosen != nullptr && *chosen != '\0' ? chosen : ORDERS_TEST_ENV_FILE);
  return true;
}();
}  // namespace
