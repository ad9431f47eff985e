#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "bench/invariants.hpp"
#include "bench/payment_plan.hpp"

using namespace orders::bench;
using Clock = std::chrono::steady_clock;

TEST(BenchPayers, AShareOfTheOrdersIsRoundedToTheNearestOrder) {
  EXPECT_EQ(payers_of(10, 0.7), 7u);
  EXPECT_EQ(payers_of(200, 0.7), 140u);
  EXPECT_EQ(payers_of(3, 0.5), 2u);
  EXPECT_EQ(payers_of(0, 0.7), 0u);
  EXPECT_EQ(payers_of(5, 0.0), 0u);
  EXPECT_EQ(payers_of(5, 1.0), 5u);
}

TEST(BenchPayers, ThePayersAreDistinctOrdersInRangeAscending) {
  const auto payers = choose_payers(1000, 0.3, 7);
  ASSERT_EQ(payers.size(), 300u);
  EXPECT_TRUE(std::adjacent_find(payers.begin(), payers.end(), std::greater_equal<>()) == payers.end())
      << "not strictly ascending: a repeat or out of order";
  EXPECT_LT(payers.back(), 1000u);
}

TEST(BenchPayers, TheSameSeedChoosesTheSameOrdersAnotherSeedOthers) {
  EXPECT_EQ(choose_payers(500, 0.5, 14), choose_payers(500, 0.5, 14));
  EXPECT_NE(choose_payers(500, 0.5, 14), choose_payers(500, 0.5, 15));
}

TEST(BenchPayers, AllOrNoneAtTheEndsOfTheShare) {
  const auto all = choose_payers(50, 1.0, 3);
  ASSERT_EQ(all.size(), 50u);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i);
  EXPECT_TRUE(choose_payers(50, 0.0, 3).empty());
  EXPECT_TRUE(choose_payers(0, 0.5, 3).empty());
}

TEST(BenchPayers, TheChoiceIsSpreadOverTheOrdersNotTakenFromTheFront) {
  const auto payers = choose_payers(10000, 0.5, 14);
  const auto in_first_half = std::count_if(payers.begin(), payers.end(), [](std::size_t i) { return i < 5000; });
  // A uniform choice puts about half of the 5000 into each half (the seed makes this fixed).
  EXPECT_GT(in_first_half, 2300);
  EXPECT_LT(in_first_half, 2700);
}

TEST(BenchPaymentSchedule, EveryMomentIsInsideItsOrdersWindowSoonestFirst) {
  std::vector<std::int64_t> accepted;
  accepted.reserve(400);
  for (int i = 0; i < 400; ++i) accepted.push_back(i * 37 % 2000);
  const std::int64_t window = 5000;
  const auto moments = schedule_payments(accepted, window, 0.7, 14);
  ASSERT_EQ(moments.size(), 280u);
  std::set<std::size_t> orders;
  for (const auto& m : moments) {
    ASSERT_LT(m.order, accepted.size());
    EXPECT_GE(m.due_ms, accepted[m.order]);
    EXPECT_LT(m.due_ms, accepted[m.order] + window);
    orders.insert(m.order);
  }
  EXPECT_EQ(orders.size(), moments.size()) << "an order paid twice";
  EXPECT_TRUE(std::is_sorted(moments.begin(), moments.end(),
                             [](const PaymentMoment& a, const PaymentMoment& b) { return a.due_ms < b.due_ms; }));
}

TEST(BenchPaymentSchedule, TheMomentsSpreadOverTheWholeWindow) {
  const std::vector<std::int64_t> accepted(1000, 0);
  const auto moments = schedule_payments(accepted, 1000, 1.0, 14);
  ASSERT_EQ(moments.size(), 1000u);
  const auto early = std::count_if(moments.begin(), moments.end(), [](const auto& m) { return m.due_ms < 100; });
  const auto late = std::count_if(moments.begin(), moments.end(), [](const auto& m) { return m.due_ms >= 900; });
  EXPECT_GT(early, 50);
  EXPECT_GT(late, 50);
}

TEST(BenchPaymentSchedule, TheSameSeedGivesTheSameMomentsAndNoWindowNone) {
  const std::vector<std::int64_t> accepted{0, 10, 20, 30, 40, 50};
  const auto a = schedule_payments(accepted, 3000, 0.5, 9), b = schedule_payments(accepted, 3000, 0.5, 9);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].order, b[i].order);
    EXPECT_EQ(a[i].due_ms, b[i].due_ms);
  }
  EXPECT_TRUE(schedule_payments(accepted, 0, 0.5, 9).empty());
}

namespace {

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point now = Clock::time_point{} + std::chrono::hours(1);
  PaymentPlan::Now fn() {
    return [this] { return now; };
  }
};

const HttpTarget kTarget{"http://127.0.0.1:1", "127.0.0.1", "1", "127.0.0.1:1"};
const ConnectionSlot kSlot{0, 0, &kTarget};

Answer answer(int status, std::string_view body = {}) {
  Answer a;
  a.status = status;
  a.body = body;
  return a;
}

const std::string kOrderA = "0190a000-0000-7000-8000-00000000000a";
const std::string kOrderB = "0190a000-0000-7000-8000-00000000000b";

}  // namespace

TEST(BenchPaymentPlan, APaymentGoesWhenItsMomentHasComeNotBefore) {
  FakeClock clock;
  PaymentPlan plan({{kOrderA, clock.now - std::chrono::seconds(1)}, {kOrderB, clock.now + std::chrono::seconds(2)}},
                   "Bearer t", clock.fn());
  std::string out;
  std::uint64_t tag = 0;
  ASSERT_EQ(plan.next(kSlot, out, tag), Next::kSend);  // its moment passed: at once
  EXPECT_NE(out.find("PUT /api/orders/" + kOrderA + "/status HTTP/1.1\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Authorization: Bearer t\r\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\n{\"status\":\"PAID\"}")) << out;
  std::string second;
  std::uint64_t second_tag = 0;
  EXPECT_EQ(plan.next(kSlot, second, second_tag), Next::kWait);  // B is due in 2 s
  plan.on_answer(tag, answer(200));
  clock.now += std::chrono::seconds(2);
  second.clear();
  ASSERT_EQ(plan.next(kSlot, second, second_tag), Next::kSend);
  EXPECT_NE(second.find(kOrderB), std::string::npos);
  plan.on_answer(second_tag, answer(409, R"({"success":false,"error":"x","code":"ORDER_EXPIRED"})"));
  EXPECT_EQ(plan.next(kSlot, out, tag), Next::kDone);

  const auto f = plan.figures();
  EXPECT_EQ(f.scheduled, 2u);
  EXPECT_EQ(f.attempted, 2u);
  EXPECT_EQ(f.paid, 1u);
  EXPECT_EQ(f.expired, 1u);
  EXPECT_EQ(f.other, 0u);
  EXPECT_EQ(plan.order_ids(PayOutcome::kPaid), std::vector<std::string>{kOrderA});
  EXPECT_EQ(plan.order_ids(PayOutcome::kExpired), std::vector<std::string>{kOrderB});
}

TEST(BenchPaymentPlan, A503IsAskedAgainAfterABackoffABoundedNumberOfTimes) {
  FakeClock clock;
  PaymentPlan plan({{kOrderA, clock.now}}, "", clock.fn());
  std::string out;
  std::uint64_t tag = 0;
  for (int attempt = 1; attempt <= PaymentPlan::kMaxAttempts; ++attempt) {
    out.clear();
    ASSERT_EQ(plan.next(kSlot, out, tag), Next::kSend) << "attempt " << attempt;
    EXPECT_EQ(out.find("Authorization"), std::string::npos) << "no token, no header";
    plan.on_answer(tag, answer(503));
    if (attempt < PaymentPlan::kMaxAttempts) {
      EXPECT_EQ(plan.next(kSlot, out, tag), Next::kWait) << "asked again at once";
      clock.now += std::chrono::seconds(3);
    }
  }
  EXPECT_EQ(plan.next(kSlot, out, tag), Next::kDone);
  const auto f = plan.figures();
  EXPECT_EQ(f.requests, static_cast<std::uint64_t>(PaymentPlan::kMaxAttempts));
  EXPECT_EQ(f.retried, static_cast<std::uint64_t>(PaymentPlan::kMaxAttempts - 1));
  EXPECT_EQ(f.attempted, 1u);
  EXPECT_EQ(f.other, 1u);
  EXPECT_EQ(f.paid, 0u);
}

TEST(BenchPaymentPlan, AnyOtherAnswerIsOtherAndUnsentPaymentsAreCounted) {
  EXPECT_EQ(PaymentPlan::outcome_of(answer(409, R"({"code":"INVALID_TRANSITION"})")), PayOutcome::kOther);
  EXPECT_EQ(PaymentPlan::outcome_of(answer(0)), PayOutcome::kOther);
  EXPECT_EQ(PaymentPlan::outcome_of(answer(404, R"({"code":"NOT_FOUND"})")), PayOutcome::kOther);
  EXPECT_EQ(PaymentPlan::outcome_of(answer(409, R"({"code":"ORDER_EXPIRED"})")), PayOutcome::kExpired);
  FakeClock clock;
  PaymentPlan plan({{kOrderA, clock.now + std::chrono::hours(1)}, {kOrderB, clock.now + std::chrono::hours(1)}}, "",
                   clock.fn());
  const auto f = plan.figures();  // the deadline came first
  EXPECT_EQ(f.not_sent, 2u);
  EXPECT_EQ(f.attempted, 0u);
}

TEST(BenchExpiryChecks, EveryUnitPaidSoldAgainOrInStockPasses) {
  std::vector<UnitsAfterExpiry> products{{.id = "p1",
                                          .made_available = 100,
                                          .first_wave_paid = 70,
                                          .second_wave_live = 30,
                                          .stock = 0,
                                          .stock_before_second_wave = 30,
                                          .second_wave_demand = 60}};
  EXPECT_EQ(check_units_accounted(products).verdict, Verdict::kPass) << check_units_accounted(products).detail;
  products[0].second_wave_live = 29;  // a unit nowhere
  EXPECT_EQ(check_units_accounted(products).verdict, Verdict::kFail);
}

TEST(BenchExpiryChecks, StockLeftFailsOnlyWhereTheSecondWaveAskedForAllOfIt) {
  std::vector<UnitsAfterExpiry> products{{.id = "p1",
                                          .made_available = 100,
                                          .first_wave_paid = 70,
                                          .second_wave_live = 20,
                                          .stock = 10,
                                          .stock_before_second_wave = 30,
                                          .second_wave_demand = 60}};
  EXPECT_EQ(check_units_accounted(products).verdict, Verdict::kFail) << "demand 60 for 30 units left 10";
  products[0].second_wave_demand = 20;
  EXPECT_EQ(check_units_accounted(products).verdict, Verdict::kPass) << check_units_accounted(products).detail;
}

TEST(BenchExpiryChecks, AnyOrderBothPaidAndExpiredFails) {
  EXPECT_EQ(check_paid_xor_expired({.ever_paid = 70, .ever_expired = 30}).verdict, Verdict::kPass);
  EXPECT_EQ(check_paid_xor_expired({.ever_paid = 70, .ever_expired = 30, .paid_and_expired = 1}).verdict,
            Verdict::kFail);
  EXPECT_EQ(check_paid_xor_expired({.expired_with_paid_row = 1}).verdict, Verdict::kFail);
  EXPECT_EQ(check_paid_xor_expired({.paid_with_expired_row = 1}).verdict, Verdict::kFail);
  EXPECT_EQ(check_paid_xor_expired({.answered_paid_not_paid = 1}).verdict, Verdict::kFail);
  EXPECT_EQ(check_paid_xor_expired({.answered_expired_not_expired = 1}).verdict, Verdict::kFail);
}

TEST(BenchExpiryChecks, ReturnedUnitsMustEqualTheUnitsOfExpiredOrdersExactly) {
  std::vector<UnitsReturned> products{
      {.id = "p1", .ledger_expired = 30, .expired_order_units = 30, .live_units = 100, .buyer_units = 100},
      {.id = "p2", .ledger_expired = 0, .expired_order_units = 0, .live_units = 5, .buyer_units = 5}};
  EXPECT_EQ(check_units_returned(products).verdict, Verdict::kPass) << check_units_returned(products).detail;
  products[0].ledger_expired = 31;  // returned twice once
  EXPECT_EQ(check_units_returned(products).verdict, Verdict::kFail);
  products[0].ledger_expired = 30;
  products[1].buyer_units = 6;  // a buyer still counted for an expired unit
  EXPECT_EQ(check_units_returned(products).verdict, Verdict::kFail);
  products[1].buyer_units = std::nullopt;
  EXPECT_EQ(check_units_returned(products).verdict, Verdict::kFail);
}

TEST(BenchExpiryChecks, PaidPlusExpiredMustBeEveryFirstWaveOrder) {
  EXPECT_EQ(check_every_order_settled(100, {.paid = 70, .expired = 30}).verdict, Verdict::kPass);
  EXPECT_EQ(check_every_order_settled(100, {.paid = 70, .expired = 29, .unsettled = 1}).verdict, Verdict::kFail);
  EXPECT_EQ(check_every_order_settled(100, {.paid = 70, .expired = 29, .expired_owing = 1}).verdict, Verdict::kFail)
      << "an expiry Redis has not heard of yet";
  EXPECT_EQ(check_every_order_settled(101, {.paid = 70, .expired = 30}).verdict, Verdict::kFail)
      << "a 202 that named no order";
}
