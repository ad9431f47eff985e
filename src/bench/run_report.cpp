#include "bench/run_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace orders::bench {
namespace {

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// A round top for an axis: 1, 2 or 5 times a power of ten, at least `max`.
double nice_top(double max) {
  if (max <= 0) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(max)));
  for (double step : {1.0, 2.0, 5.0, 10.0}) {
    if (step * magnitude >= max) return step * magnitude;
  }
  return 10 * magnitude;
}

std::string axis_label(double v) {
  char buf[32];
  if (v >= 1e6) std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
  else if (v >= 1e3) std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;  // x (s), y
};

constexpr double kWidth = 900, kChartHeight = 220, kLeft = 70, kRight = 20, kTop = 30, kGap = 60;

// One chart at vertical offset `y0`: axes, ticks, a legend, a polyline per series.
std::string chart(double y0, const std::string& title, const std::string& unit, double x_max,
                  const std::vector<Series>& series) {
  double y_max = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) y_max = std::max(y_max, y);
  }
  y_max = nice_top(y_max);
  x_max = std::max(x_max, 1.0);
  const double w = kWidth - kLeft - kRight, h = kChartHeight;
  auto px = [&](double x) { return kLeft + x / x_max * w; };
  auto py = [&](double y) { return y0 + h - y / y_max * h; };
  std::string out = "<g class=\"chart\">\n";
  out += "<text x=\"" + num(kLeft) + "\" y=\"" + num(y0 - 10) + "\" class=\"title\">" + escape(title) + "</text>\n";
  out += "<rect x=\"" + num(kLeft) + "\" y=\"" + num(y0) + "\" width=\"" + num(w) + "\" height=\"" + num(h) +
         "\" fill=\"none\" stroke=\"#999\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double v = y_max * i / 4, y = py(v);
    out += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(y) + "\" x2=\"" + num(kLeft + w) + "\" y2=\"" + num(y) +
           "\" stroke=\"#eee\"/>\n";
    out += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" + axis_label(v) +
           "</text>\n";
  }
  const double x_step = nice_top(x_max / 6);
  for (double x = 0; x <= x_max + 1e-9; x += x_step) {
    out += "<text x=\"" + num(px(x)) + "\" y=\"" + num(y0 + h + 16) + "\" text-anchor=\"middle\">" + axis_label(x) +
           " s</text>\n";
  }
  out += "<text x=\"" + num(12) + "\" y=\"" + num(y0 + h / 2) + "\" transform=\"rotate(-90 12 " + num(y0 + h / 2) +
         ")\" text-anchor=\"middle\">" + escape(unit) + "</text>\n";
  double legend_x = kLeft + 8;
  for (const auto& s : series) {
    std::string points;
    for (const auto& [x, y] : s.points) points += num(px(x)) + "," + num(py(y)) + " ";
    out += "<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"2\" points=\"" + points + "\"/>\n";
    out += "<rect x=\"" + num(legend_x) + "\" y=\"" + num(y0 + 8) + "\" width=\"10\" height=\"10\" fill=\"" + s.color +
           "\"/><text x=\"" + num(legend_x + 14) + "\" y=\"" + num(y0 + 17) + "\">" + escape(s.name) + "</text>\n";
    legend_x += 24 + 7.0 * static_cast<double>(s.name.size());
  }
  return out + "</g>\n";
}

}  // namespace

void SecondSample::merge(const SecondSample& other) {
  latency.merge(other.latency);
  ok += other.ok;
  client_errors += other.client_errors;
  server_errors += other.server_errors;
  no_answer += other.no_answer;
}

std::vector<ReportSecond> report_seconds(const std::vector<SecondSample>& samples) {
  std::vector<ReportSecond> out;
  out.reserve(samples.size());
  for (const auto& s : samples) {
    ReportSecond r;
    r.ok = static_cast<double>(s.ok);
    r.client_errors = static_cast<double>(s.client_errors);
    r.server_errors = static_cast<double>(s.server_errors);
    r.no_answer = static_cast<double>(s.no_answer);
    if (s.latency.count() > 0) {
      r.p50_ms = static_cast<double>(s.latency.percentile(0.50)) / 1e6;
      r.p99_ms = static_cast<double>(s.latency.percentile(0.99)) / 1e6;
    }
    out.push_back(r);
  }
  return out;
}

std::string report_svg(const RunReport& r) {
  // Each second's figures drawn at its middle (second 0 covers 0..1 s).
  std::vector<Series> answers{
      {r.ok_label, "#2a9d8f", {}}, {r.client_error_label, "#e9c46a", {}}, {"5xx or no answer", "#e63946", {}}};
  std::vector<Series> latency{{"p50", "#457b9d", {}}, {"p99", "#e76f51", {}}};
  for (std::size_t i = 0; i < r.seconds.size(); ++i) {
    const double x = static_cast<double>(i) + 0.5;
    const auto& s = r.seconds[i];
    answers[0].points.emplace_back(x, s.ok);
    answers[1].points.emplace_back(x, s.client_errors);
    answers[2].points.emplace_back(x, s.server_errors + s.no_answer);
    if (s.ok + s.client_errors + s.server_errors > 0) {
      latency[0].points.emplace_back(x, s.p50_ms);
      latency[1].points.emplace_back(x, s.p99_ms);
    }
  }
  double x_max = static_cast<double>(r.seconds.size());
  for (const auto& d : r.drain) x_max = std::max(x_max, d.seconds);
  const int charts = r.drain.empty() ? 2 : 3;
  const double height = kTop + charts * (kChartHeight + kGap);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kWidth) + "\" height=\"" + num(height) +
                    "\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) +
                    "\" font-family=\"sans-serif\" font-size=\"11\">\n<style>.title{font-size:13px;font-weight:bold}"
                    "</style>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += chart(kTop, "Answers per second", "answers/s", x_max, answers);
  out += chart(kTop + kChartHeight + kGap, "Latency per second", "ms", x_max, latency);
  if (!r.drain.empty()) {
    Series persisted{"persisted by the workers", "#6a4c93", {}};
    Series target{"accepted", "#bbb", {}};
    for (const auto& d : r.drain) persisted.points.emplace_back(d.seconds, d.persisted);
    target.points = {{0, r.drain_target}, {x_max, r.drain_target}};
    out += chart(kTop + 2 * (kChartHeight + kGap), "The drain: units in PostgreSQL", "units", x_max,
                 {target, persisted});
  }
  return out + "</svg>\n";
}

std::string report_html(const RunReport& r) {
  return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(r.title) +
         "</title></head>\n<body style=\"font-family:sans-serif\">\n<h2>" + escape(r.title) + "</h2>\n<pre>" +
         escape(r.subtitle) + "</pre>\n" + report_svg(r) + "</body></html>\n";
}

void write_report(const std::string& path, const RunReport& r) {
  const bool html = path.size() >= 5 && path.compare(path.size() - 5, 5, ".html") == 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("--report " + path + ": cannot open it for writing");
  out << (html ? report_html(r) : report_svg(r));
  if (!out.flush()) throw std::runtime_error("--report " + path + ": write failed");
}

}  // namespace orders::bench
