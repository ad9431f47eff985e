// The --report drawing (bench/run_report.hpp): per-second figures from the samples, and an SVG
// that carries every second, escapes what it prints and stacks the drain when there is one.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "bench/run_report.hpp"

using namespace orders::bench;

namespace {

int count_of(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::vector<SecondSample> two_seconds() {
  std::vector<SecondSample> samples(2);
  for (int i = 1; i <= 100; ++i) samples[0].latency.record(static_cast<std::uint64_t>(i) * 1'000'000);  // 1..100 ms
  samples[0].ok = 60;
  samples[0].client_errors = 40;
  samples[1].no_answer = 3;  // a second with no answer at all
  return samples;
}

}  // namespace

TEST(BenchReport, EachSecondHasItsCountsAndItsOwnPercentiles) {
  auto seconds = report_seconds(two_seconds());
  ASSERT_EQ(seconds.size(), 2u);
  EXPECT_EQ(seconds[0].ok, 60);
  EXPECT_EQ(seconds[0].client_errors, 40);
  EXPECT_NEAR(seconds[0].p50_ms, 50, 50 * 0.01);
  EXPECT_NEAR(seconds[0].p99_ms, 99, 99 * 0.01);
  EXPECT_EQ(seconds[1].no_answer, 3);
  EXPECT_EQ(seconds[1].p99_ms, 0) << "no answer, no latency";
}

TEST(BenchReport, MergingSamplesAddsCountsAndLatencies) {
  auto a = two_seconds();
  a[0].merge(two_seconds()[0]);
  EXPECT_EQ(a[0].ok, 120u);
  EXPECT_EQ(a[0].latency.count(), 200u);
}

TEST(BenchReport, TheSvgDrawsAnswersLatencyAndTheDrainAndEscapesText) {
  RunReport r;
  r.title = "sale <1> & more";
  r.seconds = report_seconds(two_seconds());
  const std::string without_drain = report_svg(r);
  EXPECT_EQ(count_of(without_drain, "<polyline"), 5) << "2xx, 4xx, 5xx; p50, p99";
  EXPECT_EQ(count_of(without_drain, "class=\"chart\""), 2);
  r.drain = {{0.5, 0}, {1.5, 80}, {2.5, 100}};
  r.drain_target = 100;
  const std::string svg = report_svg(r);
  EXPECT_EQ(count_of(svg, "class=\"chart\""), 3);
  EXPECT_NE(svg.find("The drain"), std::string::npos);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  const std::string html = report_html(r);
  EXPECT_NE(html.find("sale &lt;1&gt; &amp; more"), std::string::npos);
  EXPECT_EQ(html.find("sale <1>"), std::string::npos);
}

TEST(BenchReport, TheFileIsHtmlOrSvgByItsName) {
  RunReport r;
  r.seconds = report_seconds(two_seconds());
  const std::string dir = ::testing::TempDir();
  write_report(dir + "/run.html", r);
  write_report(dir + "/run.svg", r);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  EXPECT_EQ(read(dir + "/run.html").rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(read(dir + "/run.svg").rfind("<svg", 0), 0u);
  EXPECT_THROW(write_report("/nonexistent-dir/run.svg", r), std::runtime_error);
}
