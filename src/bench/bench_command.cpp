#include "bench/bench_command.hpp"

#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/commands.hpp"
#include "app/probes.hpp"
#include "app/redis_mode.hpp"
#include "bench/cpu_accounting.hpp"
#include "bench/exit_code.hpp"
#include "bench/invariants.hpp"
#include "bench/load_client.hpp"
#include "bench/payment_plan.hpp"
#include "bench/product_reads.hpp"
#include "bench/purchase_plan.hpp"
#include "common/json_writer.hpp"
#include "common/time.hpp"

// `orders bench flash-sale` and `orders bench read`: set up products through the API, load it
// from one process (one io_context per --threads), then report throughput, latency, answers
// and, for the flash sale, the guarantees G1–G5 (and G7 with --pay-share) against PostgreSQL
// and Redis.
namespace orders::bench {
using app::kExitConfig;
using app::kExitFailure;
namespace {

using Clock = std::chrono::steady_clock;
using bench::HttpTarget;
using bench::LoadClient;
using bench::LoadStats;

// A failure of the bench's own set-up (the API refused to create a product, …): exit 1.
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string format(const char* fmt, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string ms(std::uint64_t ns) { return format("%.2f ms", static_cast<double>(ns) / 1e6); }
double per_second(std::uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; }
long long ll(std::uint64_t n) { return static_cast<long long>(n); }

// Short and distinct per run: users and keys of two runs never meet.
std::string make_run_id() {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  auto n = static_cast<std::uint64_t>(now_ms()) * 100 + static_cast<std::uint64_t>(getpid() % 100);
  std::string id;
  while (n) {
    id.insert(id.begin(), kDigits[n % 36]);
    n /= 36;
  }
  return id;
}

// One progress line a second on stderr: rewritten in place on a terminal, one line each
// otherwise (a log file or a pipe should not fill with carriage returns).
class ProgressLine {
 public:
  ProgressLine() : tty_(isatty(STDERR_FILENO) != 0) {}
  void show(const std::string& line) {
    if (tty_) {
      std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
      shown_ = true;
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }
  void end() {
    if (tty_ && shown_) std::fputc('\n', stderr);
    shown_ = false;
  }

 private:
  bool tty_;
  bool shown_ = false;
};

struct LiveTotals {
  std::uint64_t sent = 0, answered = 0, ok = 0, client_errors = 0, server_errors = 0, no_answer = 0;
};

LiveTotals live_totals(const std::vector<std::unique_ptr<LoadClient>>& clients) {
  LiveTotals t;
  for (const auto& c : clients) {
    const auto& l = c->live();
    t.sent += l.sent.get();
    t.answered += l.answered.get();
    t.ok += l.status_2xx.get();
    t.client_errors += l.status_4xx.get();
    t.server_errors += l.status_5xx.get();
    t.no_answer += l.no_answer.get();
  }
  return t;
}

// Runs every client on a thread of its own and prints `describe` once a second until all
// are done (each stops by itself: its workload ends or its deadline passes).
void run_clients(std::vector<std::unique_ptr<LoadClient>>& clients, ProgressLine& progress,
                 const std::function<std::string(double seconds, const LiveTotals& totals, double rate)>& describe) {
  std::atomic<std::size_t> finished{0};
  std::vector<std::exception_ptr> errors(clients.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        clients[i]->run();
      } catch (...) {
        errors[i] = std::current_exception();
      }
      finished.fetch_add(1);
    });
  }
  const auto started = Clock::now();
  auto next_line = started + std::chrono::seconds(1);
  std::uint64_t last_answers = 0;
  while (finished.load() < clients.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto now = Clock::now();
    if (now < next_line) continue;
    const auto totals = live_totals(clients);
    const auto answers = totals.answered + totals.no_answer;
    progress.show(describe(std::chrono::duration<double>(now - started).count(), totals,
                           static_cast<double>(answers - last_answers)));
    last_answers = answers;
    next_line += std::chrono::seconds(1);
  }
  for (auto& t : threads) t.join();
  progress.end();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

LoadStats merged_stats(const std::vector<std::unique_ptr<LoadClient>>& clients) {
  LoadStats all;
  for (const auto& c : clients) all.merge(c->stats());
  return all;
}

std::string authorization() {
  const char* token = std::getenv("ADMIN_TOKEN");
  return token && *token ? "Bearer " + std::string(token) : std::string();
}

// Creates `count` products through the API (round robin over the targets), with a payment
// window when given; returns their ids.
std::vector<std::string> create_products(const std::vector<HttpTarget>& targets, int count, long long stock,
                                         const std::string& run_id, std::optional<int> payment_window = {},
                                         int stock_buckets = 1) {
  const std::string auth = authorization();
  std::vector<std::string> ids;
  for (int j = 0; j < count; ++j) {
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("name").string("Bench " + run_id + " #" + std::to_string(j + 1));
    w.key("price").raw_number("1.00");
    w.key("stock").number(stock);
    if (payment_window) w.key("paymentWindowSeconds").number(*payment_window);
    if (stock_buckets > 1) w.key("stockBuckets").number(stock_buckets);
    w.end_object();
    const auto& target = targets[static_cast<std::size_t>(j) % targets.size()];
    auto answer = bench::exchange(target, "POST", "/api/products", body, auth);
    if (answer.status != 201) {
      throw SetupError("POST " + target.url + "/api/products answered " + std::to_string(answer.status) + ": " +
                       answer.body.substr(0, 300) +
                       (answer.status == 401 || answer.status == 403 ? " (set ADMIN_TOKEN)" : ""));
    }
    boost::system::error_code ec;
    auto json = boost::json::parse(answer.body, ec);
    const boost::json::value* id = nullptr;
    if (!ec && json.is_object()) {
      if (auto* data = json.as_object().if_contains("data"); data && data->is_object()) {
        id = data->as_object().if_contains("id");
      }
    }
    if (!id || !id->is_string()) throw SetupError("POST /api/products answered 201 without data.id: " + answer.body);
    ids.emplace_back(id->as_string());
  }
  return ids;
}

// Splits `total` connections over `threads` clients: client t gets the global connection
// indices t, t + threads, … so the round robin over the targets holds across clients.
bench::LoadOptions client_options(std::size_t total, std::size_t threads, std::size_t t, Clock::time_point deadline,
                                  double request_timeout_seconds, Clock::time_point epoch = {}) {
  bench::LoadOptions o;
  o.epoch = epoch;
  o.connections = total / threads + (t < total % threads ? 1 : 0);
  o.connection_offset = t;
  o.connection_stride = threads;
  o.deadline = deadline;
  o.request_timeout = std::chrono::milliseconds(static_cast<long long>(request_timeout_seconds * 1000));
  return o;
}

void write_latency(JsonWriter& w, const bench::LatencyHistogram& h) {
  auto msv = [](std::uint64_t ns) { return format("%.3f", static_cast<double>(ns) / 1e6); };
  w.key("latencyMs").begin_object();
  w.key("count").number(ll(h.count()));
  w.key("p50").raw_number(msv(h.percentile(0.50)));
  w.key("p99").raw_number(msv(h.percentile(0.99)));
  w.key("p999").raw_number(msv(h.percentile(0.999)));
  w.key("max").raw_number(msv(h.max()));
  w.key("mean").raw_number(format("%.3f", h.mean() / 1e6));
  w.end_object();
}

void write_statuses(JsonWriter& w, const bench::StatusTable& table) {
  w.key("statuses").begin_array();
  for (const auto& row : table.sorted()) {
    w.begin_object().key("status").number(row.status);
    if (row.status == 0) w.key("error").string(row.code);
    else w.key("code").optional_string(row.code.empty() ? std::nullopt : std::optional<std::string>(row.code));
    w.key("count").number(ll(row.count)).end_object();
  }
  w.end_array();
}

std::string latency_line(const bench::LatencyHistogram& h) {
  return "p50 " + ms(h.percentile(0.50)) + "  p99 " + ms(h.percentile(0.99)) + "  p99.9 " + ms(h.percentile(0.999)) +
         "  max " + ms(h.max()) +
         format("  (mean %.2f ms, %llu answers)", h.mean() / 1e6, static_cast<unsigned long long>(h.count()));
}

void print_statuses(const bench::StatusTable& table) {
  bool first = true;
  for (const auto& row : table.sorted()) {
    std::string label = row.status == 0 ? "no answer (" + row.code + ")"
                                        : std::to_string(row.status) + (row.code.empty() ? "" : " " + row.code);
    std::printf("%-11s%s: %llu\n", first ? "statuses" : "", label.c_str(), static_cast<unsigned long long>(row.count));
    first = false;
  }
  if (first) std::printf("statuses   none\n");
}

// A 5xx is a bug unless a dependency is down, and a lost answer hides a decision: say so.
std::string error_summary(const LoadStats& stats) {
  const auto server_errors = stats.statuses.count_if([](int s) { return s >= 500; });
  if (server_errors == 0 && stats.no_answer == 0) return "none (no 5xx, every request answered)";
  return format("ERRORS: %llu answers 5xx, %llu requests without an answer",
                static_cast<unsigned long long>(server_errors), static_cast<unsigned long long>(stats.no_answer));
}

bool is_5xx(int s) { return s >= 500; }

// What the CPU table divides by: a label and a count (decisions, accepted orders, requests).
struct CpuUnit {
  const char* label;
  const char* json_key;
  std::uint64_t count;
};

// Microseconds of CPU per unit of work, per component (bench/cpu_accounting.hpp), when the
// service runs on this box; a unit nobody did is left out.
void print_cpu_text(const CpuUse& cpu, std::initializer_list<CpuUnit> units) {
  std::printf("%-11sus of CPU per unit, %.1f s of CPU on the box in all\n", "cpu", cpu.box);
  std::printf("%-11s%-15s", "", "");
  for (std::size_t c = 0; c < kComponents; ++c) {
    std::printf(" %8s", std::string(to_string(static_cast<Component>(c))).substr(0, 8).c_str());
  }
  std::printf(" %8s\n", "box");
  for (const CpuUnit& u : units) {
    if (u.count == 0) continue;
    std::printf("%-11s%-15s", "", u.label);
    const double n = static_cast<double>(u.count);
    // (A space before each figure: one too wide for its column, as per a single order, still reads.)
    for (double seconds : cpu.seconds) std::printf(" %8.1f", seconds * 1e6 / n);
    std::printf(" %8.1f\n", cpu.box * 1e6 / n);
  }
  // A Redis Cluster (several redis-server processes): how the redis column splits per node, per
  // unit of the last row.
  if (cpu.redis_by_node.size() > 1) {
    const CpuUnit* last = nullptr;
    for (const CpuUnit& u : units) {
      if (u.count != 0) last = &u;
    }
    if (last) {
      std::printf("%-11sredis per node, us per %s:", "", last->label);
      for (const auto& [node, seconds] : cpu.redis_by_node) {
        std::printf("  %s %.1f", node.c_str(), seconds * 1e6 / static_cast<double>(last->count));
      }
      std::printf("\n");
    }
  }
}

void write_cpu_json(JsonWriter& w, const CpuUse& cpu, std::initializer_list<CpuUnit> units) {
  auto components = [&](double divisor) {
    w.begin_object();
    for (std::size_t c = 0; c < kComponents; ++c) {
      std::string key(to_string(static_cast<Component>(c)));
      if (key == "load generator") key = "loadGenerator";
      w.key(key).raw_number(format("%.1f", cpu.seconds[c] * divisor));
    }
    w.key("box").raw_number(format("%.1f", cpu.box * divisor));
    w.end_object();
  };
  w.key("cpu").begin_object();
  w.key("seconds");
  components(1);
  if (cpu.redis_by_node.size() > 1) {
    w.key("redisSecondsByNode").begin_object();
    for (const auto& [node, seconds] : cpu.redis_by_node) w.key(node).raw_number(format("%.3f", seconds));
    w.end_object();
  }
  for (const CpuUnit& u : units) {
    if (u.count == 0) continue;
    w.key(u.json_key);
    components(1e6 / static_cast<double>(u.count));
  }
  w.end_object();
}

template <typename Settings>
int validate_common(const Settings& s, const char* command) {
  if (s.connections < 1 || s.connections > 100000) {
    std::cerr << "orders bench " << command << ": --connections must be 1..100000\n";
    return kExitConfig;
  }
  if (s.threads < 1 || s.threads > s.connections) {
    std::cerr << "orders bench " << command << ": --threads must be 1..connections\n";
    return kExitConfig;
  }
  return 0;
}

// Runs the body of `orders bench COMMAND` (bench/exit_code.hpp), ending the progress line before
// a failure is said.
int exit_code_of_run(const char* command, ProgressLine& progress, const std::function<int()>& body) {
  return exit_code_of(command, [&] {
    try {
      return body();
    } catch (...) {
      progress.end();
      throw;
    }
  });
}

// ---- orders bench flash-sale

// Where the sale fires and where its record lies.
struct SaleEndpoints {
  std::vector<HttpTarget> targets;
  config::PostgresEndpoint pg;
  redis::RedisTarget redis;
};

// 0, or kExitConfig once it has said which flag is wrong.
int parse_sale_settings(const config::Dependencies& deps, const FlashSaleSettings& s, SaleEndpoints& endpoints) {
  try {
    endpoints.targets = bench::parse_targets(s.urls);
    endpoints.pg = config::parse_postgres_url(deps.database_url);
    endpoints.redis.endpoint = config::parse_redis_url(deps.redis_url);
    endpoints.redis.cluster_seeds = app::cluster_seeds(deps, endpoints.redis.endpoint);
  } catch (const config::ConfigError& e) {
    std::cerr << "orders bench flash-sale: " << e.what() << '\n';
    return kExitConfig;
  }
  if (int rc = validate_common(s, "flash-sale")) return rc;
  if (s.products < 1 || s.stock < 0 || s.buyers < 1 || !(s.retry_share >= 0 && s.retry_share <= 1) ||
      !(s.duration_limit_seconds > 0)) {
    std::cerr << "orders bench flash-sale: --products >= 1, --stock >= 0, --buyers >= 1, --retry-share 0..1 and "
                 "--duration-limit > 0 please\n";
    return kExitConfig;
  }
  if (!(s.pay_share >= 0 && s.pay_share <= 1)) {
    std::cerr << "orders bench flash-sale: --pay-share must be 0..1\n";
    return kExitConfig;
  }
  if (s.pay_share > 0 && (s.payment_window_seconds < 1 || s.payment_window_seconds > 86400)) {
    std::cerr << "orders bench flash-sale: --pay-share needs --payment-window 1..86400 (seconds)\n";
    return kExitConfig;
  }
  if (s.pay_share == 0 && s.payment_window_seconds != 0) {
    // Orders expiring in a run that neither pays nor waits for them would fail G5 by chance.
    std::cerr << "orders bench flash-sale: --payment-window goes with --pay-share > 0\n";
    return kExitConfig;
  }
  return 0;
}

bool pays(const FlashSaleSettings& s) { return s.pay_share > 0; }

// --duration-limit bounds the firing and, again, the wait for the workers.
std::chrono::milliseconds duration_limit(const FlashSaleSettings& s) {
  return std::chrono::milliseconds(static_cast<long long>(s.duration_limit_seconds * 1000));
}

// The plans (what each client thread sent and what it was answered) and the load figures.
struct SaleFiring {
  std::vector<std::unique_ptr<bench::PurchasePlan>> plans;
  LoadStats stats;
  Clock::time_point started{};             // --report: the seconds count from here
  std::vector<bench::DrainPoint> drained;  // --report: the workers' progress behind the firing
};

// One PurchasePlan and one LoadClient per thread, fired until every purchase is answered or
// the duration limit passes.
// `persisted` (set with --report): units in PostgreSQL now, drawn once a second beside the firing.
SaleFiring fire_purchases(const std::vector<HttpTarget>& targets, const std::vector<std::string>& product_ids,
                          const std::string& run_id, const FlashSaleSettings& s, ProgressLine& progress,
                          const std::function<double()>& persisted = {}) {
  const auto threads = static_cast<std::size_t>(s.threads);
  SaleFiring firing;
  std::vector<std::unique_ptr<LoadClient>> clients;
  std::uint64_t planned_requests = 0;
  const auto deadline = Clock::now() + duration_limit(s);
  if (!s.report.empty()) firing.started = Clock::now();
  for (std::size_t t = 0; t < threads; ++t) {
    bench::PurchasePlanOptions o{product_ids, s.buyers, s.retry_share, run_id, t, threads};
    firing.plans.push_back(std::make_unique<bench::PurchasePlan>(std::move(o)));
    const auto f = firing.plans.back()->retry_figures();
    planned_requests += firing.plans.back()->purchases() + f.keys_concurrent + f.keys_after_answer;
    clients.push_back(std::make_unique<LoadClient>(targets,
                                                   client_options(static_cast<std::size_t>(s.connections), threads, t,
                                                                  deadline, s.request_timeout_seconds, firing.started),
                                                   *firing.plans.back()));
  }
  run_clients(clients, progress, [&](double seconds, const LiveTotals& t, double rate) {
    if (persisted && firing.started != Clock::time_point{}) firing.drained.push_back({seconds, persisted()});
    std::uint64_t accepted = 0;
    for (const auto& p : firing.plans) accepted += p->live_accepted().get();
    return format("[%4.0fs] sent %llu/%llu  accepted %llu  2xx %llu  4xx %llu  5xx %llu  no answer %llu  %.0f req/s",
                  seconds, ll(t.sent), ll(planned_requests), ll(accepted), ll(t.ok), ll(t.client_errors),
                  ll(t.server_errors), ll(t.no_answer), rate);
  });
  firing.stats = merged_stats(clients);
  return firing;
}

// What the clients saw, summed over the plans: `view` is what the checks hold against the record.
struct SaleTally {
  bench::SaleClientView view;
  std::uint64_t decisions = 0;  // 202 or 409 OUT_OF_STOCK
  std::uint64_t fired = 0;      // purchases sent (retries aside)
  std::uint64_t accepted = 0;   // distinct orders answered 202
};

SaleTally tally_plans(const std::vector<std::unique_ptr<bench::PurchasePlan>>& plans,
                      const std::vector<std::string>& product_ids, const FlashSaleSettings& s) {
  SaleTally tally;
  auto& view = tally.view;
  view.product_ids = product_ids;
  view.stock = s.stock;
  view.buyers = s.buyers;
  view.accepted_units.assign(product_ids.size(), 0);
  std::uint64_t purchases = 0;
  for (const auto& p : plans) {
    for (std::size_t i = 0; i < product_ids.size(); ++i) view.accepted_units[i] += p->accepted_per_product()[i];
    p->append_order_ids(view.accepted_order_ids);
    view.accepted_without_id += p->accepted_without_id();
    view.retries.merge(p->retry_figures());
    tally.decisions += p->decisions();
    tally.fired += p->fired();
    purchases += p->purchases();
  }
  view.all_fired = tally.fired == purchases;
  tally.accepted = view.accepted_order_ids.size() + view.accepted_without_id;
  return tally;
}

// Waits (at most the duration limit again) until the workers have persisted what `view` saw
// accepted, with a progress line a second.
bench::DrainResult wait_for_workers(bench::SaleRecord& record, const bench::SaleClientView& view,
                                    const FlashSaleSettings& s, ProgressLine& progress,
                                    SaleFiring* report_to = nullptr) {
  const auto drain_deadline = Clock::now() + duration_limit(s);
  auto last_line = Clock::now();
  const auto drain_started = Clock::now();
  auto drain = bench::wait_for_drain(
      record, view.product_ids, view.accepted_units, drain_deadline,
      std::chrono::seconds(static_cast<long>(std::max(1.0, s.drain_stall_seconds))), [&](const bench::DrainStatus& d) {
        if (report_to && report_to->started != Clock::time_point{}) {
          report_to->drained.push_back({std::chrono::duration<double>(Clock::now() - report_to->started).count(),
                                        static_cast<double>(d.persisted_units)});
        }
        if (Clock::now() - last_line < std::chrono::seconds(1)) return;
        last_line = Clock::now();
        progress.show(
            format("[drain %3.0fs] persisted %llu/%llu accepted units, Redis = PostgreSQL stock for %zu/%zu "
                   "products",
                   std::chrono::duration<double>(Clock::now() - drain_started).count(), ll(d.persisted_units),
                   ll(d.accepted_units), d.counters_matching, d.products));
      });
  progress.end();
  return drain;
}

// ---- --pay-share: payments inside the window, expiries, a second wave (G7)

// Fixed: the same accepted orders choose the same payers and moments, run after run.
constexpr std::uint64_t kPaymentSeed = 14;
// How long the sweepers get, past the payment window, to expire what was not paid.
constexpr auto kExpiryGrace = std::chrono::seconds(30);
// The window the products get before the second wave: its orders must outlive the checks.
constexpr int kSecondWaveWindowSeconds = 86400;

std::vector<bench::AcceptedOrder> accepted_orders(const std::vector<std::unique_ptr<bench::PurchasePlan>>& plans) {
  std::vector<bench::AcceptedOrder> orders;
  for (const auto& p : plans) p->append_accepted(orders);
  return orders;
}

// The payments of the chosen share of `accepted`, each due at a random moment of its window.
std::vector<bench::PaymentPlan::Payment> payments_due(const std::vector<bench::AcceptedOrder>& accepted,
                                                      const FlashSaleSettings& s) {
  std::vector<bench::PaymentPlan::Payment> payments;
  if (accepted.empty()) return payments;
  const auto epoch = std::min_element(accepted.begin(), accepted.end(), [](const auto& a, const auto& b) {
                       return a.accepted_at < b.accepted_at;
                     })->accepted_at;
  std::vector<std::int64_t> accepted_ms;
  accepted_ms.reserve(accepted.size());
  for (const auto& a : accepted) {
    accepted_ms.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(a.accepted_at - epoch).count());
  }
  const auto moments = bench::schedule_payments(accepted_ms, std::int64_t{s.payment_window_seconds} * 1000, s.pay_share,
                                                kPaymentSeed);
  for (const auto& m : moments) {
    payments.push_back({accepted[m.order].id, epoch + std::chrono::milliseconds(m.due_ms)});
  }
  return payments;
}

struct PaymentRun {
  bench::PaymentFigures figures;
  double seconds = 0;
  std::vector<std::string> paid_ids;     // answered 200
  std::vector<std::string> expired_ids;  // answered 409 ORDER_EXPIRED
};

// Pays the chosen share of the first wave's orders (one client; the payments are spread over
// the window). Bounded by the last moment plus room for retries, and by the duration limit.
PaymentRun pay_chosen_orders(const std::vector<HttpTarget>& targets, const std::vector<bench::AcceptedOrder>& accepted,
                             const FlashSaleSettings& s, ProgressLine& progress) {
  PaymentRun run;
  auto payments = payments_due(accepted, s);
  if (payments.empty()) return run;
  const auto request_timeout = std::chrono::milliseconds(static_cast<long long>(s.request_timeout_seconds * 1000));
  const auto last_due = payments.back().due;  // soonest first
  const auto deadline = std::min(Clock::now() + duration_limit(s),
                                 std::max(Clock::now(), last_due) + request_timeout + std::chrono::seconds(20));
  const std::size_t connections = std::min(static_cast<std::size_t>(s.connections), payments.size());
  const auto scheduled = payments.size();
  bench::PaymentPlan plan(std::move(payments), authorization());
  std::vector<std::unique_ptr<LoadClient>> clients;
  clients.push_back(std::make_unique<LoadClient>(
      targets, client_options(connections, 1, 0, deadline, s.request_timeout_seconds), plan));
  run_clients(clients, progress, [&](double seconds, const LiveTotals& t, double) {
    return format("[pay %4.0fs] sent %llu (%llu payments)  2xx %llu  4xx %llu  5xx %llu  no answer %llu", seconds,
                  ll(t.sent), ll(scheduled), ll(t.ok), ll(t.client_errors), ll(t.server_errors), ll(t.no_answer));
  });
  run.figures = plan.figures();
  run.seconds = clients.front()->stats().seconds();
  run.paid_ids = plan.order_ids(bench::PayOutcome::kPaid);
  run.expired_ids = plan.order_ids(bench::PayOutcome::kExpired);
  return run;
}

// Waits (the window plus kExpiryGrace at most) until every first-wave order is PAID or
// EXPIRED with its units back, with a progress line a second.
bench::SettleResult wait_for_expiries(bench::SaleRecord& record, const std::vector<std::string>& product_ids,
                                      const std::vector<std::string>& first_wave_ids, const FlashSaleSettings& s,
                                      ProgressLine& progress) {
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::seconds(s.payment_window_seconds) + kExpiryGrace;
  auto last_line = started;
  auto settle = bench::wait_for_settlement(
      record, product_ids, first_wave_ids, deadline, [&](const bench::Settlement& st, std::size_t matching) {
        if (Clock::now() - last_line < std::chrono::seconds(1)) return;
        last_line = Clock::now();
        progress.show(
            format("[expiry %3.0fs] %llu paid, %llu expired (%llu units back), %llu to go, Redis = "
                   "PostgreSQL stock for %zu/%zu products",
                   std::chrono::duration<double>(Clock::now() - started).count(), ll(st.paid), ll(st.expired),
                   ll(st.units_returned), ll(st.unsettled + st.expired_owing), matching, product_ids.size()));
      });
  progress.end();
  return settle;
}

// Gives the products a window the second wave's orders outlive the checks with (they are not
// paid; expiring during the drain would take back what they bought).
void extend_payment_windows(const std::vector<HttpTarget>& targets, const std::vector<std::string>& product_ids) {
  const std::string auth = authorization();
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("paymentWindowSeconds").number(kSecondWaveWindowSeconds).end_object();
  for (std::size_t j = 0; j < product_ids.size(); ++j) {
    const auto& target = targets[j % targets.size()];
    auto answer = bench::exchange(target, "PUT", "/api/products/" + product_ids[j], body, auth);
    if (answer.status != 200) {
      throw SetupError("PUT " + target.url + "/api/products/" + product_ids[j] + " answered " +
                       std::to_string(answer.status) + ": " + answer.body.substr(0, 300));
    }
  }
}

// Per product, what the second wave finds and asks for: every product gets twice the most
// units any of them got back (at least one buyer each), so demand covers what came back.
struct SecondWavePlan {
  std::vector<long long> stock_before;
  std::vector<long long> returned;
  std::uint64_t buyers = 0;
  std::vector<std::uint64_t> demand;
};

SecondWavePlan plan_second_wave(bench::SaleRecord& record, const std::vector<std::string>& product_ids) {
  SecondWavePlan plan;
  const auto products = record.products(product_ids);
  long long most_returned = 0;
  for (const auto& id : product_ids) {
    auto p = std::find_if(products.begin(), products.end(), [&](const auto& r) { return r.id == id; });
    plan.stock_before.push_back(p == products.end() ? 0 : p->stock);
    plan.returned.push_back(p == products.end() ? 0 : p->expired_units);
    most_returned = std::max(most_returned, plan.returned.back());
  }
  plan.buyers = product_ids.size() * static_cast<std::uint64_t>(std::max(1LL, 2 * most_returned));
  for (std::size_t i = 0; i < product_ids.size(); ++i) {
    plan.demand.push_back(bench::PurchasePlan::demand_of(plan.buyers, product_ids.size(), i));
  }
  return plan;
}

// The second wave's figures added to the first's: the checks judge the whole run.
void add_wave(bench::SaleClientView& view, const bench::SaleClientView& wave) {
  for (std::size_t i = 0; i < view.accepted_units.size(); ++i) view.accepted_units[i] += wave.accepted_units[i];
  view.accepted_order_ids.insert(view.accepted_order_ids.end(), wave.accepted_order_ids.begin(),
                                 wave.accepted_order_ids.end());
  view.accepted_without_id += wave.accepted_without_id;
  view.retries.merge(wave.retries);
  view.all_fired = view.all_fired && wave.all_fired;
}

// What a --pay-share run did after the first wave drained.
struct ExpiryRun {
  PaymentRun payments;
  bench::SettleResult settle;
  bench::ExpiryTiming timing;
  SecondWavePlan second_wave_plan;
  SaleTally second_wave;
  LoadStats second_wave_stats;
  bench::DrainResult second_wave_drain;
  long long units_returned = 0;
};

// Pays a share of the first wave, waits for the rest to expire, sells what came back to a
// second wave of new buyers, waits for the workers again, and folds it all into `view`.
ExpiryRun run_payments_and_expiries(bench::SaleRecord& record, const std::vector<HttpTarget>& targets,
                                    const std::string& run_id, const SaleFiring& firing, bench::SaleClientView& view,
                                    const FlashSaleSettings& s, ProgressLine& progress) {
  ExpiryRun run;
  bench::ExpiryView expiry;
  expiry.first_wave_ids = view.accepted_order_ids;
  expiry.first_wave_accepted = static_cast<long long>(view.accepted_order_ids.size()) +
                               static_cast<long long>(view.accepted_without_id);
  run.payments = pay_chosen_orders(targets, accepted_orders(firing.plans), s, progress);
  expiry.answered_paid = run.payments.paid_ids;
  expiry.answered_expired = run.payments.expired_ids;
  run.settle = wait_for_expiries(record, view.product_ids, expiry.first_wave_ids, s, progress);
  run.timing = record.expiry_timing(expiry.first_wave_ids);
  run.second_wave_plan = plan_second_wave(record, view.product_ids);
  for (long long r : run.second_wave_plan.returned) run.units_returned += r;

  extend_payment_windows(targets, view.product_ids);
  FlashSaleSettings wave = s;
  wave.buyers = run.second_wave_plan.buyers;
  SaleFiring second = fire_purchases(targets, view.product_ids, run_id + "b", wave, progress);
  run.second_wave = tally_plans(second.plans, view.product_ids, wave);
  run.second_wave_stats = second.stats;
  expiry.second_wave_ids = run.second_wave.view.accepted_order_ids;
  expiry.stock_before_second_wave = run.second_wave_plan.stock_before;
  expiry.second_wave_demand = run.second_wave_plan.demand;
  add_wave(view, run.second_wave.view);
  view.expiry = std::move(expiry);
  run.second_wave_drain = wait_for_workers(record, view, s, progress);
  return run;
}

// G1–G5 against the record, and the counts a fault drill reads.
struct SaleVerdict {
  std::vector<bench::Check> checks;
  bench::SaleCounts counts;
  bool passed = true;  // no check failed
};

SaleVerdict check_guarantees(bench::SaleRecord& record, const bench::SaleClientView& view) {
  SaleVerdict verdict;
  verdict.checks = bench::check_sale(record, view, &verdict.counts);
  for (const auto& c : verdict.checks) verdict.passed = verdict.passed && c.verdict != bench::Verdict::kFail;
  return verdict;
}

// Everything the report of a flash sale says.
struct SaleReport {
  const FlashSaleSettings& settings;
  const std::string& run_id;
  const std::vector<HttpTarget>& targets;
  const std::vector<std::string>& product_ids;
  const LoadStats& stats;
  const SaleTally& tally;
  const bench::DrainResult& drain;
  const SaleVerdict& verdict;
  const CpuUse& cpu;                  // from the firing's start to the end of the drain
  const ExpiryRun* expiry = nullptr;  // with --pay-share
};

// Orders the sweepers expired per second, from the first deadline to the last expiry (the
// span between the first and the last expiry is 0 when one round took them all).
double sweeper_rate(const bench::ExpiryTiming& t) {
  return per_second(static_cast<std::uint64_t>(t.expired), t.first_deadline_to_last_expiry);
}

void write_drain(JsonWriter& w, const bench::DrainResult& drain) {
  w.key("drain").begin_object();
  w.key("drained").boolean(drain.drained);
  w.key("seconds").raw_number(format("%.3f", drain.seconds));
  if (!drain.drained) w.key("why").string(drain.why);
  w.end_object();
}

void write_expiry_json(JsonWriter& w, const FlashSaleSettings& s, const ExpiryRun& e) {
  const auto& f = e.payments.figures;
  w.key("payments").begin_object();
  w.key("share").raw_number(format("%.4f", s.pay_share));
  w.key("windowSeconds").number(s.payment_window_seconds);
  w.key("scheduled").number(ll(f.scheduled));
  w.key("attempted").number(ll(f.attempted));
  w.key("requests").number(ll(f.requests));
  w.key("paid").number(ll(f.paid));
  w.key("orderExpired").number(ll(f.expired));
  w.key("other").number(ll(f.other));
  w.key("retried").number(ll(f.retried));
  w.key("notSent").number(ll(f.not_sent));
  w.key("seconds").raw_number(format("%.3f", e.payments.seconds));
  w.end_object();
  w.key("expiry").begin_object();
  w.key("settled").boolean(e.settle.settled);
  w.key("seconds").raw_number(format("%.3f", e.settle.seconds));
  if (!e.settle.settled) w.key("why").string(e.settle.why);
  w.key("paid").number(e.settle.last.paid);
  w.key("expired").number(e.settle.last.expired + e.settle.last.expired_owing);
  w.key("unitsReturned").number(e.units_returned);
  w.key("sweeper").begin_object();
  w.key("expired").number(e.timing.expired);
  w.key("firstDeadlineToLastExpirySeconds").raw_number(format("%.3f", e.timing.first_deadline_to_last_expiry));
  w.key("firstToLastExpirySeconds").raw_number(format("%.3f", e.timing.first_to_last_expiry));
  w.key("maxLagSeconds").raw_number(format("%.3f", e.timing.max_lag));
  w.key("ordersPerSecond").raw_number(format("%.1f", sweeper_rate(e.timing)));
  w.end_object();
  w.end_object();
  const auto& wave = e.second_wave;
  w.key("secondWave").begin_object();
  w.key("buyers").number(ll(e.second_wave_plan.buyers));
  w.key("purchasesFired").number(ll(wave.fired));
  w.key("allFired").boolean(wave.view.all_fired);
  w.key("decisions").number(ll(wave.decisions));
  w.key("accepted").number(ll(wave.accepted));
  w.key("firingSeconds").raw_number(format("%.3f", e.second_wave_stats.seconds()));
  w.key("serverErrors").number(ll(e.second_wave_stats.statuses.count_if(is_5xx)));
  w.key("noAnswer").number(ll(e.second_wave_stats.no_answer));
  write_drain(w, e.second_wave_drain);
  w.end_object();
}

void print_expiry_text(const FlashSaleSettings& s, const ExpiryRun& e, std::uint64_t first_wave_accepted) {
  const auto& f = e.payments.figures;
  std::printf(
      "%-11s%llu of %llu first-wave orders chosen (share %.2f, window %d s): %llu sent in %.2f s (%llu requests, "
      "%llu retried after 503): %llu paid (200), %llu too late (409 ORDER_EXPIRED), %llu other, %llu not sent%s\n",
      "payments", ll(f.scheduled), ll(first_wave_accepted), s.pay_share, s.payment_window_seconds, ll(f.attempted),
      e.payments.seconds, ll(f.requests), ll(f.retried), ll(f.paid), ll(f.expired), ll(f.other), ll(f.not_sent),
      f.not_sent ? " -- STOPPED BY THE TIME LIMIT" : "");
  const auto& st = e.settle.last;
  if (e.settle.settled) {
    std::printf("%-11s%lld orders paid, %lld expired, %lld units returned; settled %.2f s after the payments\n",
                "expiry", st.paid, st.expired + st.expired_owing, e.units_returned, e.settle.seconds);
  } else {
    std::printf("%-11s%lld orders paid, %lld expired, %lld units returned; NOT SETTLED after %.2f s (%s)\n", "expiry",
                st.paid, st.expired + st.expired_owing, e.units_returned, e.settle.seconds, e.settle.why.c_str());
  }
  std::printf(
      "%-11s%lld orders expired in %.2f s from the first deadline to the last expiry: %.1f/s (first to last expiry "
      "%.2f s; at most %.2f s past a deadline)\n",
      "sweeper", e.timing.expired, e.timing.first_deadline_to_last_expiry, sweeper_rate(e.timing),
      e.timing.first_to_last_expiry, e.timing.max_lag);
  const auto& wave = e.second_wave;
  std::printf("%-11s%llu buyers (%llu per product) for %lld units back: %llu accepted, %llu decisions in %.2f s%s\n",
              "2nd wave", ll(e.second_wave_plan.buyers),
              ll(e.second_wave_plan.demand.empty() ? 0 : e.second_wave_plan.demand.front()), e.units_returned,
              ll(wave.accepted), ll(wave.decisions), e.second_wave_stats.seconds(),
              wave.view.all_fired ? "" : " -- STOPPED BY THE TIME LIMIT");
  std::printf("%-11s%s\n", "", error_summary(e.second_wave_stats).c_str());
  if (e.second_wave_drain.drained) {
    std::printf("%-11spersisted %.2f s after the second wave\n", "", e.second_wave_drain.seconds);
  } else {
    std::printf("%-11sNOT DRAINED after %.2f s (%s)\n", "", e.second_wave_drain.seconds,
                e.second_wave_drain.why.c_str());
  }
}

void print_sale_json(const SaleReport& r) {
  const auto& s = r.settings;
  const auto& stats = r.stats;
  const auto& retries = r.tally.view.retries;
  const auto& counts = r.verdict.counts;
  const double firing_seconds = stats.seconds();
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("command").string("flash-sale");
  w.key("runId").string(r.run_id);
  w.key("urls").begin_array();
  for (const auto& t : r.targets) w.string(t.url);
  w.end_array();
  w.key("products").begin_array();
  for (const auto& id : r.product_ids) w.string(id);
  w.end_array();
  w.key("stockPerProduct").number(s.stock);
  w.key("stockBuckets").number(s.stock_buckets);
  w.key("buyers").number(ll(s.buyers));
  w.key("connections").number(s.connections);
  w.key("threads").number(s.threads);
  w.key("retryShare").raw_number(format("%.4f", s.retry_share));
  w.key("requests").number(ll(stats.sent));
  w.key("purchasesFired").number(ll(r.tally.fired));
  w.key("retriesFired").number(ll(retries.retries_fired));
  w.key("allFired").boolean(r.tally.view.all_fired);
  w.key("firingSeconds").raw_number(format("%.3f", firing_seconds));
  w.key("requestsPerSecond").raw_number(format("%.1f", per_second(stats.answered, firing_seconds)));
  w.key("decisions").number(ll(r.tally.decisions));
  w.key("decisionsPerSecond").raw_number(format("%.1f", per_second(r.tally.decisions, firing_seconds)));
  w.key("accepted").number(ll(r.tally.accepted));
  w.key("acceptedPerSecond").raw_number(format("%.1f", per_second(r.tally.accepted, firing_seconds)));
  write_latency(w, stats.latency);
  write_statuses(w, stats.statuses);
  w.key("serverErrors").number(ll(stats.statuses.count_if(is_5xx)));
  w.key("noAnswer").number(ll(stats.no_answer));
  w.key("retries").begin_object();
  w.key("keysConcurrent").number(ll(retries.keys_concurrent));
  w.key("keysAfterAnswer").number(ll(retries.keys_after_answer));
  w.key("replayed").number(ll(retries.replayed));
  w.key("inProgress").number(ll(retries.in_progress));
  w.key("sameOrder").number(ll(retries.same_order));
  w.key("conflicts").number(ll(retries.conflicts));
  w.end_object();
  write_drain(w, r.drain);
  if (r.expiry) write_expiry_json(w, s, *r.expiry);
  w.key("record").begin_object();
  w.key("accepted").number(counts.accepted);
  w.key("persisted").number(counts.persisted);
  w.key("failed").number(counts.failed);
  w.key("lost").number(counts.lost);
  w.key("duplicated").number(counts.duplicated);
  w.end_object();
  w.key("checks").begin_array();
  for (const auto& c : r.verdict.checks) {
    w.begin_object();
    w.key("name").string(c.name);
    w.key("title").string(c.title);
    w.key("result").string(bench::to_string(c.verdict));
    w.key("detail").string(c.detail);
    w.end_object();
  }
  w.end_array();
  write_cpu_json(w, r.cpu,
                 {{"decision", "perDecisionMicroseconds", r.tally.decisions},
                  {"accepted order", "perAcceptedOrderMicroseconds", r.tally.accepted}});
  w.key("passed").boolean(r.verdict.passed);
  w.end_object();
  std::printf("%s\n", out.c_str());
}

void print_sale_text(const SaleReport& r) {
  const auto& s = r.settings;
  const auto& stats = r.stats;
  const auto& retries = r.tally.view.retries;
  const double firing_seconds = stats.seconds();
  std::printf(
      "orders bench flash-sale: run %s, %d product%s x %lld units%s, %llu buyers, %d connections on %d "
      "thread%s, retry share %.2f%s\n",
      r.run_id.c_str(), s.products, s.products == 1 ? "" : "s", s.stock,
      s.stock_buckets > 1 ? format(" in %d buckets", s.stock_buckets).c_str() : "", ll(s.buyers), s.connections,
      s.threads, s.threads == 1 ? "" : "s", s.retry_share,
      pays(s) ? format(", pay share %.2f, payment window %d s", s.pay_share, s.payment_window_seconds).c_str() : "");
  for (const auto& t : r.targets) std::printf("%-11s%s\n", "target", t.url.c_str());
  std::printf("%-11s%llu requests in %.2f s: %.0f answers/s (%llu purchases, %llu retries)%s\n", "firing",
              ll(stats.sent), firing_seconds, per_second(stats.answered, firing_seconds), ll(r.tally.fired),
              ll(retries.retries_fired), r.tally.view.all_fired ? "" : " -- STOPPED BY THE TIME LIMIT");
  std::printf("%-11s%llu (202 or 409 OUT_OF_STOCK): %.0f/s\n", "decisions", ll(r.tally.decisions),
              per_second(r.tally.decisions, firing_seconds));
  std::printf("%-11s%llu orders: %.0f/s\n", "accepted", ll(r.tally.accepted),
              per_second(r.tally.accepted, firing_seconds));
  std::printf("%-11s%s\n", "latency", latency_line(stats.latency).c_str());
  print_statuses(stats.statuses);
  std::printf(
      "%-11s%llu keys sent twice (%llu at once, %llu after the answer): %llu answers replayed, %llu in "
      "progress\n",
      "retries", ll(retries.keys_concurrent + retries.keys_after_answer), ll(retries.keys_concurrent),
      ll(retries.keys_after_answer), ll(retries.replayed), ll(retries.in_progress));
  std::printf("%-11s%s\n", "errors", error_summary(stats).c_str());
  if (r.drain.drained) std::printf("%-11spersisted %.2f s after the firing\n", "drain", r.drain.seconds);
  else std::printf("%-11sNOT DRAINED after %.2f s (%s)\n", "drain", r.drain.seconds, r.drain.why.c_str());
  print_cpu_text(r.cpu, {{"decision", "", r.tally.decisions}, {"accepted order", "", r.tally.accepted}});
  if (r.expiry) print_expiry_text(s, *r.expiry, r.tally.accepted);
  for (const auto& c : r.verdict.checks) {
    std::printf("%s %s %s: %s\n", c.name.c_str(), std::string(bench::to_string(c.verdict)).c_str(), c.title.c_str(),
                c.detail.c_str());
  }
  std::printf("%-11s%s\n", "result", r.verdict.passed ? "PASS" : "FAIL");
}

// ---- orders bench read

int parse_read_settings(const ReadSettings& s, std::vector<HttpTarget>& targets) {
  try {
    targets = bench::parse_targets(s.urls);
  } catch (const config::ConfigError& e) {
    std::cerr << "orders bench read: " << e.what() << '\n';
    return kExitConfig;
  }
  if (int rc = validate_common(s, "read")) return rc;
  if (s.products < 1 || !(s.duration_seconds > 0)) {
    std::cerr << "orders bench read: --products >= 1 and --duration > 0 please\n";
    return kExitConfig;
  }
  return 0;
}

// The paths to read round robin: --path, or products created for the run with their cache warm.
struct ReadPaths {
  std::vector<std::string> paths;
  std::size_t warm_hits = 0;  // products that answered X-Cache: HIT on their second read
};

ReadPaths prepare_paths(const std::vector<HttpTarget>& targets, const ReadSettings& s) {
  ReadPaths r;
  if (!s.path.empty()) {
    r.paths.push_back(s.path);
    return r;
  }
  const auto product_ids = create_products(targets, s.products, 1000000, make_run_id());
  // Warm: the first read fills the cache (MISS), the second should find it.
  for (const auto& id : product_ids) {
    r.paths.push_back("/api/products/" + id);
    for (int round = 0; round < 2; ++round) {
      auto answer = bench::exchange(targets[0], "GET", r.paths.back(), {}, {});
      if (answer.status != 200)
        throw SetupError("GET " + r.paths.back() + " answered " + std::to_string(answer.status));
      if (round == 1 && answer.cache_hit) ++r.warm_hits;
    }
  }
  return r;
}

struct ReadFiring {
  LoadStats stats;
  std::uint64_t cache_hits = 0;
  std::uint64_t ok = 0;  // 200 answers
};

// One ProductReads and one LoadClient per thread, reading for --duration.
ReadFiring fire_reads(const std::vector<HttpTarget>& targets, const std::vector<std::string>& paths,
                      const ReadSettings& s, ProgressLine& progress) {
  const auto threads = static_cast<std::size_t>(s.threads);
  std::vector<std::unique_ptr<bench::ProductReads>> reads;
  std::vector<std::unique_ptr<LoadClient>> clients;
  const auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long long>(s.duration_seconds * 1000));
  const auto epoch = s.report.empty() ? Clock::time_point{} : Clock::now();
  for (std::size_t t = 0; t < threads; ++t) {
    reads.push_back(std::make_unique<bench::ProductReads>(targets, paths));
    clients.push_back(std::make_unique<LoadClient>(
        targets,
        client_options(static_cast<std::size_t>(s.connections), threads, t, deadline, s.request_timeout_seconds, epoch),
        *reads.back()));
  }
  run_clients(clients, progress, [&](double seconds, const LiveTotals& t, double rate) {
    return format("[%4.0fs] answered %llu  2xx %llu  4xx %llu  5xx %llu  no answer %llu  %.0f req/s", seconds,
                  ll(t.answered), ll(t.ok), ll(t.client_errors), ll(t.server_errors), ll(t.no_answer), rate);
  });
  ReadFiring firing;
  firing.stats = merged_stats(clients);
  for (const auto& r : reads) {
    firing.cache_hits += r->cache_hits();
    firing.ok += r->ok();
  }
  return firing;
}

double hit_share(const ReadFiring& f) {
  return f.stats.answered ? static_cast<double>(f.cache_hits) / static_cast<double>(f.stats.answered) : 0.0;
}

void print_read_json(const ReadSettings& s, const std::vector<HttpTarget>& targets, const ReadFiring& f,
                     const CpuUse& cpu) {
  const auto& stats = f.stats;
  const double seconds = stats.seconds();
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("command").string("read");
  w.key("urls").begin_array();
  for (const auto& t : targets) w.string(t.url);
  w.end_array();
  if (!s.path.empty()) w.key("path").string(s.path);
  else w.key("products").number(s.products);
  w.key("connections").number(s.connections);
  w.key("threads").number(s.threads);
  w.key("requests").number(ll(stats.sent));
  w.key("answered").number(ll(stats.answered));
  w.key("seconds").raw_number(format("%.3f", seconds));
  w.key("requestsPerSecond").raw_number(format("%.1f", per_second(stats.answered, seconds)));
  write_latency(w, stats.latency);
  write_statuses(w, stats.statuses);
  w.key("serverErrors").number(ll(stats.statuses.count_if(is_5xx)));
  w.key("noAnswer").number(ll(stats.no_answer));
  w.key("cacheHits").number(ll(f.cache_hits));
  w.key("cacheHitShare").raw_number(format("%.4f", hit_share(f)));
  write_cpu_json(w, cpu, {{"request", "perRequestMicroseconds", f.stats.answered}});
  w.end_object();
  std::printf("%s\n", out.c_str());
}

void print_read_text(const ReadSettings& s, const std::vector<HttpTarget>& targets, const ReadPaths& paths,
                     const ReadFiring& f, const CpuUse& cpu) {
  const auto& stats = f.stats;
  const double seconds = stats.seconds();
  const std::string what = !s.path.empty() ? "GET " + s.path
                                           : format("%d product%s (%zu of them HIT after warming)", s.products,
                                                    s.products == 1 ? "" : "s", paths.warm_hits);
  std::printf("orders bench read: %s, %d connections on %d thread%s, %.0f s\n", what.c_str(), s.connections, s.threads,
              s.threads == 1 ? "" : "s", s.duration_seconds);
  for (const auto& t : targets) std::printf("%-11s%s\n", "target", t.url.c_str());
  std::printf("%-11s%llu answered in %.2f s: %.0f req/s\n", "requests", ll(stats.answered), seconds,
              per_second(stats.answered, seconds));
  std::printf("%-11s%s\n", "latency", latency_line(stats.latency).c_str());
  print_statuses(stats.statuses);
  std::printf("%-11sX-Cache HIT %.2f%% (%llu of %llu answers)\n", "cache", hit_share(f) * 100, ll(f.cache_hits),
              ll(stats.answered));
  std::printf("%-11s%s\n", "errors", error_summary(stats).c_str());
  print_cpu_text(cpu, {{"request", "", stats.answered}});
}

}  // namespace

// --report: the firing second by second and the drain behind it (bench/run_report.hpp).
void write_sale_report(const SaleReport& r, const SaleFiring& firing) {
  const auto& s = r.settings;
  bench::RunReport report;
  report.title = format("orders bench flash-sale: %d product%s x %lld units, %llu buyers, %d connections", s.products,
                        s.products == 1 ? "" : "s", s.stock, ll(s.buyers), s.connections);
  report.subtitle = format("run %s, %s\ndecisions %llu: %.0f/s; accepted %llu: %.0f/s; latency %s; checks %s",
                           r.run_id.c_str(), r.targets.front().url.c_str(), ll(r.tally.decisions),
                           per_second(r.tally.decisions, r.stats.seconds()), ll(r.tally.accepted),
                           per_second(r.tally.accepted, r.stats.seconds()), latency_line(r.stats.latency).c_str(),
                           r.verdict.passed ? "PASS" : "FAIL");
  report.ok_label = "2xx (202 accepted, or replayed)";
  report.client_error_label = "4xx (409 sold out, limits, in progress)";
  report.seconds = bench::report_seconds(firing.stats.by_second);
  report.drain = firing.drained;
  for (auto units : r.tally.view.accepted_units) report.drain_target += static_cast<double>(units);
  bench::write_report(s.report, report);
  std::fprintf(stderr, "report written to %s\n", s.report.c_str());
}

int run_bench_flash_sale(const config::Dependencies& deps, const FlashSaleSettings& s) {
  SaleEndpoints endpoints;
  if (int rc = parse_sale_settings(deps, s, endpoints)) return rc;
  ProgressLine progress;
  return exit_code_of_run("flash-sale", progress, [&] {
    app::probe_postgres(endpoints.pg);
    if (endpoints.redis.cluster()) app::probe_redis_cluster(endpoints.redis.endpoint, endpoints.redis.cluster_seeds);
    else app::probe_redis(endpoints.redis.endpoint);
    bench::SaleRecord record(endpoints.pg, endpoints.redis);
    const std::string run_id = make_run_id();
    const auto product_ids = create_products(endpoints.targets, s.products, s.stock, run_id,
                                             pays(s) ? std::optional<int>(s.payment_window_seconds) : std::nullopt,
                                             s.stock_buckets);
    const CpuSample cpu_before = sample_cpu();
    std::function<double()> persisted;
    if (!s.report.empty()) {
      persisted = [&] { return static_cast<double>(record.persisted_units(product_ids)); };
    }
    SaleFiring firing = fire_purchases(endpoints.targets, product_ids, run_id, s, progress, persisted);
    const SaleTally tally = tally_plans(firing.plans, product_ids, s);
    const bench::DrainResult drain = wait_for_workers(record, tally.view, s, progress, &firing);
    const CpuUse cpu = cpu_between(cpu_before, sample_cpu(), ticks_per_second());
    // The checks judge the whole run: with --pay-share, both waves.
    bench::SaleClientView view = tally.view;
    std::optional<ExpiryRun> expiry;
    if (pays(s)) expiry = run_payments_and_expiries(record, endpoints.targets, run_id, firing, view, s, progress);
    const SaleVerdict verdict = check_guarantees(record, view);
    const SaleReport report{.settings = s,
                            .run_id = run_id,
                            .targets = endpoints.targets,
                            .product_ids = product_ids,
                            .stats = firing.stats,
                            .tally = tally,
                            .drain = drain,
                            .verdict = verdict,
                            .cpu = cpu,
                            .expiry = expiry ? &*expiry : nullptr};
    if (s.json) print_sale_json(report);
    else print_sale_text(report);
    std::fflush(stdout);
    if (!s.report.empty()) write_sale_report(report, firing);
    return verdict.passed ? 0 : kExitFailure;
  });
}

void write_read_report(const ReadSettings& s, const ReadPaths& paths, const ReadFiring& f) {
  bench::RunReport report;
  report.title = format("orders bench read: %s, %d connections, %.0f s",
                        s.path.empty() ? format("%zu products", paths.paths.size()).c_str() : s.path.c_str(),
                        s.connections, s.duration_seconds);
  report.subtitle = format("%llu answered: %.0f/s; latency %s", ll(f.stats.answered),
                           per_second(f.stats.answered, f.stats.seconds()), latency_line(f.stats.latency).c_str());
  report.seconds = bench::report_seconds(f.stats.by_second);
  bench::write_report(s.report, report);
  std::fprintf(stderr, "report written to %s\n", s.report.c_str());
}

int run_bench_read(const ReadSettings& s) {
  std::vector<HttpTarget> targets;
  if (int rc = parse_read_settings(s, targets)) return rc;
  ProgressLine progress;
  return exit_code_of_run("read", progress, [&] {
    const ReadPaths paths = prepare_paths(targets, s);
    const CpuSample cpu_before = sample_cpu();
    const ReadFiring firing = fire_reads(targets, paths.paths, s, progress);
    const CpuUse cpu = cpu_between(cpu_before, sample_cpu(), ticks_per_second());
    if (s.json) print_read_json(s, targets, firing, cpu);
    else print_read_text(s, targets, paths, firing, cpu);
    std::fflush(stdout);
    if (!s.report.empty()) write_read_report(s, paths, firing);
    return firing.ok > 0 ? 0 : kExitFailure;
  });
}

}  // namespace orders::bench
