#include "support/api_helpers.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "support/process.hpp"

namespace orders::testing {

double metric_value(std::uint16_t port, const std::string& series) {
  auto r = http_get(port, "/metrics");
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return 0;
}

boost::json::value json_of(const HttpResult& r) { return boost::json::parse(r.body); }

std::string create_product(std::uint16_t port, const std::string& body) {
  auto r = http_request(port, "POST", "/api/products", body);
  if (r.status != 201) throw std::runtime_error("create product failed: " + std::to_string(r.status) + " " + r.body);
  return std::string(json_of(r).at("data").at("id").as_string());
}

std::string shell(const std::vector<std::string>& argv) { return run(argv).output; }

}  // namespace orders::testing
