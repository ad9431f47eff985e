#include "support/test_env.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace orders::testing {

void load_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read test environment file " + path);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (line.empty() || eq == std::string::npos) continue;
    ::setenv(line.substr(0, eq).c_str(), line.substr(eq + 1).c_str(), 1);
  }
}

}  // namespace orders::testing
