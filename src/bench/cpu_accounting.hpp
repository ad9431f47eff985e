#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

// CPU time per component while a bench runs, read from /proc (issue #13: the box is saturated,
// so the unit that survives noise is CPU time per unit of work). Every process on the box is
// sampled before and after; a process is put in a component by its name and arguments; what
// no process accounts for (kernel threads, interrupts, processes that ended meanwhile) is the
// rest of the box.
namespace orders::bench {

enum class Component { kApi, kWorkers, kRedis, kRabbitMq, kPostgres, kLoadGenerator, kOther };
inline constexpr std::size_t kComponents = 7;
std::string_view to_string(Component c);

// The component of a process: its /proc/PID/comm and cmdline (arguments separated by NULs);
// `is_self` for the bench itself (the load generator).
Component component_of(std::string_view comm, std::string_view cmdline, bool is_self);

// utime + stime in clock ticks from a /proc/PID/stat line (the name may hold spaces and ')').
std::optional<long long> process_ticks(std::string_view stat_line);
// Busy ticks of all CPUs from the first line of /proc/stat: everything but idle and iowait.
std::optional<long long> box_busy_ticks(std::string_view cpu_line);

// "127.0.0.1:7000" of a redis-server's cmdline ("redis-server 127.0.0.1:7000 [cluster]", as
// Redis renames itself), or "" for anything else: the nodes of a cluster are told apart by it.
std::string redis_node_of(std::string_view cmdline);

struct CpuSample {
  long long box_ticks = 0;
  std::map<int, std::pair<Component, long long>> processes;  // pid -> (component, ticks)
  std::map<int, std::string> redis_nodes;                    // pid -> "host:port" of a redis-server
};
CpuSample sample_cpu();

// Seconds of CPU between two samples, per component; kOther is the rest of the box (the box's
// busy time minus every other component), and `box` the whole.
struct CpuUse {
  std::array<double, kComponents> seconds{};
  double box = 0;
  std::map<std::string, double> redis_by_node;  // the redis component per server (a cluster's nodes)
};
CpuUse cpu_between(const CpuSample& before, const CpuSample& after, long long ticks_per_second);
long long ticks_per_second();

}  // namespace orders::bench
