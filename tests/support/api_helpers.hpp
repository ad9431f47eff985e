#pragma once

#include <boost/json.hpp>
#include <string>

#include "support/http_client.hpp"

namespace orders::testing {

// The value of one Prometheus series (exact name with labels) from /metrics, 0 when absent.
double metric_value(std::uint16_t port, const std::string& series);

// Parses a response body as JSON.
boost::json::value json_of(const HttpResult& r);

// Creates a product through the API and returns its id (fails the test on anything but 201).
std::string create_product(std::uint16_t port, const std::string& body);

// A command's combined output (redis-cli, psql, ...).
std::string shell(const std::vector<std::string>& argv);

}  // namespace orders::testing
