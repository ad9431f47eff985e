#include "metrics/process_metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "metrics/registry.hpp"

#ifndef ORDERS_VERSION
#define ORDERS_VERSION "unknown"
#endif
#ifndef ORDERS_COMMIT
#define ORDERS_COMMIT "unknown"
#endif

namespace orders::metrics {
namespace {

std::string number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

void series(std::string& out, const char* name, const char* type, const char* help, const std::string& value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += value;
  out += '\n';
}

// Fields of /proc/self/stat after the command name (which may hold spaces), from field 3 on.
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> fields;
  auto close = line.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 2));
  for (std::string f; rest >> f;) fields.push_back(f);
  return fields;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

std::string render_process_metrics() {
  std::string out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto fields = stat_fields();  // fields[0] is field 3 (state) of proc(5)
  if (fields.size() > 21 && ticks > 0) {
    const double cpu = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;  // utime + stime
    series(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds", number(cpu));
    series(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds",
           number(boot_time_seconds() + std::stod(fields[19]) / ticks));
    series(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes", fields[20]);
    const double rss = std::stod(fields[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
    series(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes", number(rss));
  }
  std::error_code ec;
  std::size_t fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    ++fds;
  }
  if (fds > 0) fds -= 1;  // the directory iterator's own descriptor
  series(out, "process_open_fds", "gauge", "Number of open file descriptors", std::to_string(fds));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    series(out, "process_max_fds", "gauge", "Maximum number of open file descriptors",
           std::to_string(static_cast<unsigned long long>(limit.rlim_cur)));
  }
  out += "# HELP orders_build_info The running build: version and commit\n# TYPE orders_build_info gauge\n";
  out += "orders_build_info{version=\"" + escape_label_value(ORDERS_VERSION) + "\",commit=\"" +
         escape_label_value(ORDERS_COMMIT) + "\"} 1\n";
  return out;
}

}  // namespace orders::metrics
