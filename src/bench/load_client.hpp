#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/latency_histogram.hpp"
#include "bench/run_report.hpp"

// The load loop of `orders bench`: HTTP/1.1 keep-alive connections on one io_context, each
// sending one request at a time and reading its answer (Boost.Beast's parser, kept to
// load_client.cpp). What to send and what to make of the answers is the Workload's business.
namespace orders::bench {

// One server to load, from an http:// URL.
struct HttpTarget {
  std::string url;   // as given, for reports
  std::string host;  // for connecting
  std::string port;
  std::string host_header;  // the Host header: host[:port]
};

// "http://h:p[,http://h2:p2…]" -> targets. Throws config::ConfigError naming --url.
std::vector<HttpTarget> parse_targets(std::string_view urls);

// One answer as the load loop saw it. The views are valid during Workload::on_answer only.
struct Answer {
  int status = 0;  // 0: no answer (transport error or timeout)
  std::string_view body;
  std::string_view error;  // why there was no answer, when status == 0
  bool replayed = false;   // Idempotent-Replayed: true
  bool cache_hit = false;  // X-Cache: HIT
  std::uint64_t latency_ns = 0;
};

// The connection a request goes out on.
struct ConnectionSlot {
  std::size_t index = 0;  // global index over all clients (round robin over targets)
  std::size_t target_index = 0;
  const HttpTarget* target = nullptr;
};

enum class Next { kSend, kWait, kDone };

// What to send. Called only from the client's thread, so implementations need no locks.
class Workload {
 public:
  virtual ~Workload() = default;
  // kSend: `out` (empty, capacity kept from earlier requests) holds one whole request, head
  // and body, and `tag` identifies it in on_answer. kWait: nothing to send yet (asked again
  // after the next answer, or within 100 ms). kDone: this connection is finished.
  virtual Next next(const ConnectionSlot& slot, std::string& out, std::uint64_t& tag) = 0;
  virtual void on_answer(std::uint64_t tag, const Answer& answer) = 0;
};

// A counter written by one thread and read by others (progress lines): a relaxed load and
// store, no locked read-modify-write on the request path.
class RelaxedCounter {
 public:
  void add(std::uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

struct LiveCounters {
  RelaxedCounter sent;
  RelaxedCounter answered;  // with an HTTP status
  RelaxedCounter status_2xx;
  RelaxedCounter status_4xx;
  RelaxedCounter status_5xx;
  RelaxedCounter no_answer;  // transport errors and timeouts
};

// Answers by HTTP status and error code ("code" of the error envelope; for status 0, the
// transport error). A handful of distinct rows, so a vector searched linearly.
class StatusTable {
 public:
  struct Row {
    int status = 0;
    std::string code;
    std::uint64_t count = 0;
  };
  void add(int status, std::string_view code, std::uint64_t n = 1);
  void merge(const StatusTable& other);
  const std::vector<Row>& rows() const { return rows_; }
  std::vector<Row> sorted() const;  // by status, then count (most first)
  std::uint64_t count_if(bool (*pred)(int status)) const;

 private:
  std::vector<Row> rows_;
};

// The "code" of an error envelope body, or empty.
std::string_view error_code_of(std::string_view body);

struct LoadStats {
  LatencyHistogram latency;  // of answered requests
  StatusTable statuses;
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  std::uint64_t no_answer = 0;
  std::chrono::steady_clock::time_point first_sent{};
  std::chrono::steady_clock::time_point last_answer{};
  // Second by second from LoadOptions::epoch (--report); empty without an epoch.
  std::vector<SecondSample> by_second;

  void merge(const LoadStats& other);
  double seconds() const;  // first request sent to last answer
};

struct LoadOptions {
  std::size_t connections = 1;
  // This client's connections are global indices offset, offset + stride, … (several
  // clients on several threads share the round robin over the targets).
  std::size_t connection_offset = 0;
  std::size_t connection_stride = 1;
  std::chrono::steady_clock::time_point deadline;     // no request starts after this
  std::chrono::milliseconds request_timeout{10'000};  // an answer slower than this is a timeout
  // Set (the same for every client of a run): answers are also counted per second since then.
  std::chrono::steady_clock::time_point epoch{};
};

// Runs `options.connections` connections on one io_context until the workload says done to
// every one of them or the deadline passes (then in-flight requests get request_timeout).
class LoadClient {
 public:
  LoadClient(const std::vector<HttpTarget>& targets, LoadOptions options, Workload& workload);
  ~LoadClient();
  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;

  void run();  // blocks the calling thread until done

  const LiveCounters& live() const;
  const LoadStats& stats() const;  // after run()

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request on a fresh connection, for setting up (creating products, warming caches).
// Throws DependencyUnavailable("API", …) when there is no answer within `timeout`.
struct SimpleAnswer {
  int status = 0;
  std::string body;
  bool cache_hit = false;
};
SimpleAnswer exchange(const HttpTarget& target, std::string_view method, std::string_view path, std::string_view body,
                      std::string_view authorization, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace orders::bench
