#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/load_client.hpp"

namespace orders::bench {

// GET /api/products/{id} over the products round robin (or any paths), until the client's
// deadline. The requests are formatted once per (target, path) and copied into the
// connection's buffer.
class ProductReads final : public Workload {
 public:
  ProductReads(const std::vector<HttpTarget>& targets, const std::vector<std::string>& paths);

  Next next(const ConnectionSlot& slot, std::string& out, std::uint64_t& tag) override;
  void on_answer(std::uint64_t tag, const Answer& answer) override;

  std::uint64_t cache_hits() const { return cache_hits_; }
  std::uint64_t ok() const { return ok_; }

 private:
  std::vector<std::vector<std::string>> requests_;  // [target][path]
  std::size_t paths_;
  std::uint64_t next_ = 0;
  std::uint64_t cache_hits_ = 0;
  std::uint64_t ok_ = 0;
};

}  // namespace orders::bench
