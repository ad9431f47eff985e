#pragma once

#include <string>
#include <vector>

#include "bench/latency_histogram.hpp"

// `orders bench … --report FILE.svg|.html`: the run drawn as a load tester's report draws it,
// second by second: answers/s by kind, p50 and p99 latency, and the workers' drain behind the
// firing. Pure functions of the samples, so they are unit-tested without a run.
namespace orders::bench {

// What the load loop saw in one second of the run (LoadStats::by_second).
struct SecondSample {
  LatencyHistogram latency;         // of the answers in this second
  std::uint64_t ok = 0;             // 2xx (a flash sale: accepted, or replayed)
  std::uint64_t client_errors = 0;  // 4xx (a flash sale: sold out, limits, in progress)
  std::uint64_t server_errors = 0;  // 5xx
  std::uint64_t no_answer = 0;      // transport errors and timeouts
  void merge(const SecondSample& other);
};

struct ReportSecond {
  double ok = 0, client_errors = 0, server_errors = 0, no_answer = 0;  // answers in this second
  double p50_ms = 0, p99_ms = 0;                                       // 0 when none answered
};
std::vector<ReportSecond> report_seconds(const std::vector<SecondSample>& samples);

// A point of the drain: seconds since the firing began, units persisted by then.
struct DrainPoint {
  double seconds = 0;
  double persisted = 0;
};

struct RunReport {
  std::string title;     // e.g. "orders bench flash-sale: 1 product x 10000 units, 100000 buyers"
  std::string subtitle;  // the figures of the text report's summary lines
  std::string ok_label = "2xx";
  std::string client_error_label = "4xx";
  std::vector<ReportSecond> seconds;
  std::vector<DrainPoint> drain;  // empty: no drain chart (bench read)
  double drain_target = 0;        // units to persist (the drain chart's top line)
};

// One standalone SVG document: the charts stacked, axes labelled, text escaped.
std::string report_svg(const RunReport& report);
// The SVG inline in an HTML page with the title and subtitle.
std::string report_html(const RunReport& report);
// Writes report_html when `path` ends in .html, report_svg otherwise; throws on I/O errors.
void write_report(const std::string& path, const RunReport& report);

}  // namespace orders::bench
