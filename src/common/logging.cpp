#include "common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

#include "common/json_writer.hpp"

namespace orders::logging {

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\n' && c != '\r') {
      out += c;
      continue;
    }
    while (i + 1 < text.size() &&
           (text[i + 1] == '\n' || text[i + 1] == '\r' || text[i + 1] == ' ' || text[i + 1] == '\t')) {
      ++i;
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
    if (i + 1 < text.size() && !out.empty()) out += ' ';
  }
  return out;
}

namespace {

// %& is the message on one line (below): one event, one line, whatever a library's error says.
constexpr std::string_view kTextPattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%t] %&";
// %* is the message as a JSON string (below); request lines bring their own fields (%v).
constexpr std::string_view kJsonPattern = R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":%*})";
constexpr std::string_view kJsonRequestPattern = R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,%v})";

class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string quoted;
    append_json_string(quoted, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

// libpq's errors come as several lines ("ERROR:  ...\nDETAIL:  ...\n"): in text mode each line
// break, with the indentation after it, becomes one space, and a trailing one goes.
class OneLineMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string line = one_line(std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<OneLineMessageFlag>(); }
};

std::unique_ptr<spdlog::formatter> make_formatter(std::string_view pattern) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonMessageFlag>('*').add_flag<OneLineMessageFlag>('&').set_pattern(std::string(pattern));
  return formatter;
}

Format g_format = Format::kText;
std::shared_ptr<spdlog::logger> g_requests;

}  // namespace

Format format() { return g_format; }

std::optional<Format> parse_format(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

void configure(Format format, std::string_view level) {
  g_format = format;
  // A formatter belongs to a sink, so each logger has its own; console sinks share one
  // process-wide mutex, so their lines never interleave.
  auto make_sink = [format] {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    if (format == Format::kJson) sink->set_color_mode(spdlog::color_mode::never);
    return sink;
  };
  auto logger = std::make_shared<spdlog::logger>("orders", make_sink());
  logger->set_formatter(make_formatter(format == Format::kJson ? kJsonPattern : kTextPattern));
  g_requests = std::make_shared<spdlog::logger>("requests", make_sink());
  g_requests->set_formatter(make_formatter(format == Format::kJson ? kJsonRequestPattern : kTextPattern));
  const auto lvl = spdlog::level::from_str(std::string(level));
  logger->set_level(lvl);
  g_requests->set_level(lvl);
  spdlog::set_default_logger(logger);
}

namespace {

// The path as a log shows it: bytes outside printable ASCII percent-encoded, as in a URL, so
// a JSON line stays valid UTF-8 and a text line stays one line whatever a client sends.
std::string printable_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    if (c > 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

bool requests_logged() { return g_requests && g_requests->should_log(spdlog::level::info); }

void log_request(const RequestRecord& r) {
  if (!requests_logged()) return;
  const std::string path = printable_path(r.path);
  std::string line;
  if (g_format == Format::kJson) {
    // Fields only: the pattern supplies the braces, the time and the level.
    line += R"("msg":"request","method":)";
    append_json_string(line, r.method);
    line += R"(,"route":)";
    append_json_string(line, r.route);
    line += R"(,"path":)";
    append_json_string(line, path);
    line += ",\"status\":" + std::to_string(r.status);
    line += fmt::format(",\"latencyMs\":{:.3f}", r.latency_ms);
    if (!r.order_id.empty()) {
      line += R"(,"orderId":)";
      append_json_string(line, r.order_id);
    }
    if (!r.code.empty()) {
      line += R"(,"code":)";
      append_json_string(line, r.code);
    }
    line += R"(,"requestId":)";
    append_json_string(line, r.request_id);
  } else {
    line = fmt::format("{} {} {} {:.3f} ms route={}", r.method, path, r.status, r.latency_ms, r.route);
    if (!r.order_id.empty()) fmt::format_to(std::back_inserter(line), " order={}", r.order_id);
    if (!r.code.empty()) fmt::format_to(std::back_inserter(line), " code={}", r.code);
    fmt::format_to(std::back_inserter(line), " request_id={}", printable_path(r.request_id));
  }
  g_requests->info(line);
}

}  // namespace orders::logging
