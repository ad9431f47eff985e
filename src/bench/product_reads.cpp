#include "bench/product_reads.hpp"

namespace orders::bench {

ProductReads::ProductReads(const std::vector<HttpTarget>& targets, const std::vector<std::string>& paths)
    : paths_(paths.size()) {
  for (const auto& target : targets) {
    auto& per_target = requests_.emplace_back();
    for (const auto& path : paths) {
      per_target.push_back("GET " + path + " HTTP/1.1\r\nHost: " + target.host_header + "\r\n\r\n");
    }
  }
}

Next ProductReads::next(const ConnectionSlot& slot, std::string& out, std::uint64_t& tag) {
  if (paths_ == 0) return Next::kDone;
  tag = next_;
  out += requests_[slot.target_index][next_++ % paths_];
  return Next::kSend;
}

void ProductReads::on_answer(std::uint64_t, const Answer& answer) {
  if (answer.status == 200) ++ok_;
  if (answer.cache_hit) ++cache_hits_;
}

}  // namespace orders::bench
