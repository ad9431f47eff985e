#include "metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "metrics/process_metrics.hpp"

namespace orders::metrics {

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  std::size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return kBuckets;
}

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  return *counters_.emplace_back(
      std::make_unique<Family<Counter>>(std::move(name), std::move(help), std::move(labels)));
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  return *gauges_.emplace_back(std::make_unique<Family<Gauge>>(std::move(name), std::move(help), std::move(labels)));
}

Family<Histogram>& Registry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                       std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  return *histograms_.emplace_back(
      std::make_unique<Family<Histogram>>(std::move(name), std::move(help), std::move(labels), std::move(bounds)));
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  // Shortest form that reads back as the same double: le="0.05", not le="0.050000000000000003"
  // (a {le="0.05"} selector must match).
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

// {a="x",b="y"} with an optional extra label (the histogram's "le").
std::string labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(i < values.size() ? values[i] : std::string());
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out.append(extra_name);
    out += "=\"";
    out.append(extra_value);
    out += '"';
  }
  out += '}';
  return out;
}

template <typename F>
void header(std::string& out, const F& family, std::string_view type) {
  out += "# HELP " + family.name() + ' ' + family.help() + '\n';
  out += "# TYPE " + family.name() + ' ';
  out.append(type);
  out += '\n';
}

}  // namespace

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  out.reserve(16 * 1024);
  for (const auto& family : counters_) {
    header(out, *family, "counter");
    family->for_each([&](const std::vector<std::string>& values, const Counter& c) {
      out += family->name() + labels(family->label_names(), values) + ' ' + std::to_string(c.value()) + '\n';
    });
  }
  for (const auto& family : gauges_) {
    header(out, *family, "gauge");
    family->for_each([&](const std::vector<std::string>& values, const Gauge& g) {
      out += family->name() + labels(family->label_names(), values) + ' ' + format_number(g.value()) + '\n';
    });
  }
  for (const auto& family : histograms_) {
    header(out, *family, "histogram");
    family->for_each([&](const std::vector<std::string>& values, const Histogram& h) {
      std::vector<std::uint64_t> cumulative = h.cumulative();
      for (std::size_t i = 0; i < cumulative.size(); ++i) {
        std::string le = i < h.bounds().size() ? format_number(h.bounds()[i]) : "+Inf";
        out += family->name() + "_bucket" + labels(family->label_names(), values, "le", le) + ' ' +
               std::to_string(cumulative[i]) + '\n';
      }
      out += family->name() + "_sum" + labels(family->label_names(), values) + ' ' + format_number(h.sum()) + '\n';
      out += family->name() + "_count" + labels(family->label_names(), values) + ' ' +
             std::to_string(cumulative.back()) + '\n';
    });
  }
  out += render_process_metrics();
  return out;
}

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace orders::metrics
