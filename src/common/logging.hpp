#pragma once

#include <optional>
#include <string>
#include <string_view>

// Logging set-up shared by every subcommand: one stderr sink, text for people or one JSON
// object per line for log shippers (`LOG_FORMAT=json`), level from `LOG_LEVEL`.
namespace orders::logging {

enum class Format { kText, kJson };

std::optional<Format> parse_format(std::string_view name);  // "text" or "json"

// Installs the default logger and the request logger. Call once, before any thread logs.
void configure(Format format, std::string_view level = "info");
// The format configure() installed.
Format format();

// The text on one line: each line break, with the indentation after it, one space.
std::string one_line(std::string_view text);

// One finished HTTP request. `order_id` is empty when the request concerns no order.
struct RequestRecord {
  std::string_view method;
  std::string_view route;  // the route pattern, or "unmatched"
  std::string_view path;
  int status = 0;
  double latency_ms = 0;
  std::string_view order_id;
  std::string_view code;        // the error code of a refusal or failure, empty on success
  std::string_view request_id;  // X-Request-Id, taken from the request or generated
};

// Whether request lines are written (info level); callers skip building the record otherwise.
bool requests_logged();

// One info line per request (LOG_LEVEL=warn turns them off, as the benchmarks do).
void log_request(const RequestRecord& record);

}  // namespace orders::logging
