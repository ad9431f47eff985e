#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/time.hpp"
#include "common/uuid.hpp"
#include "ordering/order_event.hpp"
#include "ordering/order_request.hpp"
#include "ordering/reference_number.hpp"
#include "ordering/stock_gate.hpp"

namespace orders::testing {

// A purchase as the intake builds it for a gate: the request and its reservation (which points
// at the request, so the pair lives behind one pointer).
struct Purchase {
  ordering::OrderRequest request;
  ordering::Reservation reservation;
};

// `order_id` empty: a fresh UUID v7 (a gate that picks ids, the cluster's, passes its own).
inline std::unique_ptr<Purchase> make_purchase(const std::string& user,
                                               const std::vector<std::pair<std::string, long long>>& items,
                                               std::optional<std::string> key = std::nullopt,
                                               std::string order_id = {}) {
  auto p = std::make_unique<Purchase>();
  p->request.user_id = user;
  for (const auto& [product, quantity] : items) p->request.items.push_back({product, quantity});
  p->request.idempotency_key = std::move(key);
  auto& r = p->reservation;
  r.request = &p->request;
  r.order_id = order_id.empty() ? uuid::make_v7() : std::move(order_id);
  r.reference_no = ordering::reference_number(r.order_id);
  r.created_ms = now_ms();
  r.created_at = format_rfc3339(r.created_ms);
  r.fingerprint = ordering::fingerprint(p->request);
  r.event_head = ordering::order_created_head(uuid::make_v7(), r.created_at);
  return p;
}

// Two answers to the same purchase field by field (the scripts' and a reading's).
inline void expect_same_answer(const ordering::ReserveReply& a, const ordering::ReserveReply& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.item, b.item);
  EXPECT_EQ(a.limit, b.limit);
  EXPECT_EQ(a.bought, b.bought);
  EXPECT_EQ(a.left, b.left);
}

}  // namespace orders::testing
