#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <thread>

#include "metrics/registry.hpp"

using namespace orders::metrics;

TEST(Metrics, CounterWithLabelsRendersInTextFormat) {
  Registry r;
  auto& family = r.counter("orders_http_requests_total", "Requests", {"route", "status"});
  family.with({"/health", "200"}).inc();
  family.with({"/health", "200"}).inc(2);
  family.with({"/x", "404"}).inc();
  std::string text = r.render();
  EXPECT_NE(text.find("# HELP orders_http_requests_total Requests\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE orders_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("orders_http_requests_total{route=\"/health\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("orders_http_requests_total{route=\"/x\",status=\"404\"} 1\n"), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  auto& h = r.histogram("latency_seconds", "Latency", {"route"}, {0.1, 1}).with({"/a"});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string text = r.render();
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_sum{route=\"/a\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_count{route=\"/a\"} 3\n"), std::string::npos);
}

TEST(Metrics, LabelValuesAreEscaped) { EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

TEST(Metrics, GaugeWithoutLabels) {
  Registry r;
  r.gauge("queue_depth", "Depth").with({}).set(7);
  EXPECT_NE(r.render().find("queue_depth 7\n"), std::string::npos);
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  auto& family = r.counter("c_total", "C", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) family.with({"v"}).inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.with({"v"}).value(), 40000u);
}

TEST(Metrics, EveryLineIsValidExposition) {
  Registry r;
  r.counter("a_total", "A", {"x"}).with({"1"}).inc();
  r.histogram("b_seconds", "B", {}).with({}).observe(0.2);
  std::istringstream lines(r.render());
  std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? [-+0-9.eEInfa]+$)");
  std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_TRUE(std::regex_match(line, sample) || std::regex_match(line, comment)) << line;
  }
  EXPECT_GT(count, 5);
}

TEST(Metrics, BucketBoundsArePrintedInShortestForm) {
  Registry r;
  r.histogram("x_seconds", "X", {}, latency_buckets()).with({}).observe(0.04);
  std::string text = r.render();
  EXPECT_NE(text.find("x_seconds_bucket{le=\"0.05\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"0.00025\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("x_seconds_bucket{le=\"2.5\"} 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("000000000"), std::string::npos) << "float noise in a label: " << text;
}

TEST(Metrics, ProcessSeriesAndBuildInfoAreRendered) {
  Registry r;
  std::string text = r.render();
  for (const char* name : {"process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds ",
                           "process_max_fds ", "process_start_time_seconds ", "process_virtual_memory_bytes "}) {
    EXPECT_NE(text.find(std::string("\n") + name), std::string::npos) << name << " missing in\n" << text;
  }
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(text, m, std::regex(R"re(\norders_build_info\{version="([^"]+)",commit="([^"]+)"\} 1\n)re")))
      << text;
  EXPECT_EQ(m[1].str(), "0.1.0");
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(\nprocess_resident_memory_bytes (\d+)\n)"))) << text;
  EXPECT_GT(std::stod(m[1].str()), 1e6);
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(\nprocess_start_time_seconds ([0-9.e+]+)\n)"))) << text;
  EXPECT_GT(std::stod(m[1].str()), 1.7e9) << "start time is seconds since the epoch";
}
