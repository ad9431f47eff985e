#pragma once

#include <cstdint>
#include <string>

// Flags of `orders bench flash-sale` and `orders bench read`.
namespace orders::bench {

struct FlashSaleSettings {
  std::string urls;  // http://host:port[,…]: connections go round robin over them
  int products = 1;
  long long stock = 10000;  // units per product
  int stock_buckets = 1;    // the products' stockBuckets (split on Redis Cluster only)
  std::uint64_t buyers = 100000;
  int connections = 256;
  double retry_share = 0.1;             // of the keys sent twice with the same Idempotency-Key
  double duration_limit_seconds = 120;  // bounds the firing, and the wait for the workers
  double request_timeout_seconds = 10;
  double drain_stall_seconds = 10;  // no progress this long while waiting for the workers: give up
  int threads = 1;                  // each with its own io_context and share of the connections
  // Of the accepted orders, the share paid inside the window; the rest expires and a second
  // wave buys the units back (G7). 0: off, the products get no window.
  double pay_share = 0;
  int payment_window_seconds = 0;  // the products' paymentWindowSeconds, 1..86400 with pay_share
  std::string report;              // set: the run drawn into this .svg or .html file
  bool json = false;
};

struct ReadSettings {
  std::string urls;
  int connections = 64;
  double duration_seconds = 10;
  int products = 10;
  std::string path;  // set: GET this path instead of products (e.g. /health, the HTTP ceiling)
  double request_timeout_seconds = 10;
  int threads = 1;
  std::string report;  // set: the run drawn into this .svg or .html file
  bool json = false;
};

}  // namespace orders::bench
