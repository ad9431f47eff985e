#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

// A small Prometheus exposition (text format 0.0.4) of our own: Debian 12 packages no C++
// client. Families are created once at start-up; a labelled child is looked up under a
// mutex and then updated with atomics, so hot paths keep a reference to their child.
namespace orders::metrics {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v);
  // Cumulative counts per bound, then +Inf.
  std::vector<std::uint64_t> cumulative() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1 (+Inf)
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

enum class Kind { kCounter, kGauge, kHistogram };

// Default latency buckets in seconds, 100 µs .. 10 s.
const std::vector<double>& latency_buckets();

template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}

  // The child for these label values (in the order of the label names).
  T& with(std::initializer_list<std::string_view> values) {
    std::string key;
    for (std::string_view v : values) {
      key.append(v);
      key.push_back('\x1f');
    }
    std::lock_guard lock(mutex_);
    auto it = children_.find(key);
    if (it == children_.end()) {
      std::vector<std::string> copy(values.begin(), values.end());
      it = children_.emplace(std::move(key), Child{std::move(copy), make()}).first;
    }
    return *it->second.metric;
  }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  template <typename F>
  void for_each(F&& f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [key, child] : children_) f(child.label_values, *child.metric);
  }

 private:
  struct Child {
    std::vector<std::string> label_values;
    std::unique_ptr<T> metric;
  };
  std::unique_ptr<T> make() {
    if constexpr (std::is_same_v<T, Histogram>) return std::make_unique<T>(bounds_);
    else return std::make_unique<T>();
  }

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<std::string, Child> children_;
};

class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> bounds = latency_buckets());

  // Prometheus text format 0.0.4.
  std::string render() const;

 private:
  mutable std::mutex mutex_;
  // Registration order is exposition order.
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
};

// The process-wide registry that /metrics renders.
Registry& registry();

// Escapes a label value for the text format (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);

}  // namespace orders::metrics
