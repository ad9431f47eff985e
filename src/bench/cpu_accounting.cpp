#include "bench/cpu_accounting.hpp"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace orders::bench {

std::string_view to_string(Component c) {
  switch (c) {
    case Component::kApi: return "api";
    case Component::kWorkers: return "workers";
    case Component::kRedis: return "redis";
    case Component::kRabbitMq: return "rabbitmq";
    case Component::kPostgres: return "postgres";
    case Component::kLoadGenerator: return "load generator";
    case Component::kOther: return "rest";
  }
  return "rest";
}

Component component_of(std::string_view comm, std::string_view cmdline, bool is_self) {
  if (is_self) return Component::kLoadGenerator;
  if (comm == "redis-server") return Component::kRedis;
  // RabbitMQ's Erlang VM and its helpers (epmd, the port programs).
  if (comm == "beam.smp" || comm == "epmd" || comm == "erl_child_setup" || comm == "inet_gethost") {
    return Component::kRabbitMq;
  }
  if (comm.starts_with("postgres") || comm == "postmaster") return Component::kPostgres;
  if (comm == "orders") {
    // argv[1] is the subcommand.
    auto first_nul = cmdline.find('\0');
    std::string_view rest = first_nul == std::string_view::npos ? std::string_view{} : cmdline.substr(first_nul + 1);
    std::string_view sub = rest.substr(0, rest.find('\0'));
    if (sub == "api") return Component::kApi;
    if (sub == "worker") return Component::kWorkers;
    if (sub == "bench") return Component::kLoadGenerator;
  }
  return Component::kOther;
}

namespace {

std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::optional<long long> number(std::string_view text) {
  long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::optional<long long> process_ticks(std::string_view stat_line) {
  // "PID (NAME) STATE PPID ...": after the last ')', field 1 is the state; utime and stime are
  // fields 14 and 15 of the whole line, so 12 and 13 after the name.
  auto close = stat_line.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  auto f = fields(stat_line.substr(close + 1));
  if (f.size() < 13) return std::nullopt;
  auto utime = number(f[11]), stime = number(f[12]);
  if (!utime || !stime) return std::nullopt;
  return *utime + *stime;
}

std::optional<long long> box_busy_ticks(std::string_view cpu_line) {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (guest is in user).
  auto f = fields(cpu_line);
  if (f.size() < 9 || f[0] != "cpu") return std::nullopt;
  long long busy = 0;
  for (std::size_t i : {1, 2, 3, 6, 7, 8}) {
    auto v = number(f[i]);
    if (!v) return std::nullopt;
    busy += *v;
  }
  return busy;
}

std::string redis_node_of(std::string_view cmdline) {
  if (!cmdline.starts_with("redis-server ")) return "";
  std::string_view rest = cmdline.substr(13);
  rest = rest.substr(0, rest.find_first_of(std::string_view(" \0", 2)));
  return rest.find(':') == std::string_view::npos ? "" : std::string(rest);
}

CpuSample sample_cpu() {
  CpuSample sample;
  std::string stat = read_file("/proc/stat");
  sample.box_ticks = box_busy_ticks(std::string_view(stat).substr(0, stat.find('\n'))).value_or(0);
  const int self = static_cast<int>(::getpid());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    auto pid = number(name);
    if (!pid) continue;
    auto ticks = process_ticks(read_file(entry.path() / "stat"));
    if (!ticks) continue;  // ended meanwhile
    std::string comm = read_file(entry.path() / "comm");
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    const std::string cmdline = read_file(entry.path() / "cmdline");
    sample.processes[static_cast<int>(*pid)] = {component_of(comm, cmdline, *pid == self), *ticks};
    if (comm == "redis-server") {
      if (std::string node = redis_node_of(cmdline); !node.empty()) sample.redis_nodes[static_cast<int>(*pid)] = node;
    }
  }
  return sample;
}

CpuUse cpu_between(const CpuSample& before, const CpuSample& after, long long ticks_per_second) {
  CpuUse use;
  const double tick = 1.0 / static_cast<double>(ticks_per_second > 0 ? ticks_per_second : 100);
  double accounted = 0;
  for (const auto& [pid, entry] : after.processes) {
    auto it = before.processes.find(pid);
    const long long was = it == before.processes.end() ? 0 : it->second.second;
    const double seconds = static_cast<double>(std::max(0LL, entry.second - was)) * tick;
    if (entry.first == Component::kOther) continue;  // in the rest, below
    if (auto node = after.redis_nodes.find(pid); node != after.redis_nodes.end()) {
      use.redis_by_node[node->second] += seconds;
    }
    use.seconds[static_cast<std::size_t>(entry.first)] += seconds;
    accounted += seconds;
  }
  use.box = static_cast<double>(std::max(0LL, after.box_ticks - before.box_ticks)) * tick;
  use.seconds[static_cast<std::size_t>(Component::kOther)] = std::max(0.0, use.box - accounted);
  return use;
}

long long ticks_per_second() { return ::sysconf(_SC_CLK_TCK); }

}  // namespace orders::bench
