#include "support/test_env.hpp"

// Point every integration test at the test stack (ports of its own), whatever the shell has.
namespace {
const bool kLoaded = (orders::testing::load_env_file(ORDERS_TEST_ENV_FILE), true);
}  // namespace
