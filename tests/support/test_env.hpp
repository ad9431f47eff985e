#pragma once

#include <string>

namespace orders::testing {

// Loads KEY=VALUE lines from `path` into the environment (overwriting), so integration tests
// always talk to the test stack, never to whatever DATABASE_URL the shell has.
void load_env_file(const std::string& path);

}  // namespace orders::testing
