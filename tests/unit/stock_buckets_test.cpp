#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "catalog/keys.hpp"
#include "catalog/stock_buckets.hpp"
#include "storage/redis/cluster_slots.hpp"

using namespace orders;
namespace b = catalog::buckets;

TEST(StockBuckets, BucketZeroIsTheProductsOwnTagAndTheOthersSpreadOverSlots) {
  EXPECT_EQ(catalog::keys::bucket("p1", 0), "p1");
  EXPECT_EQ(catalog::keys::stock(catalog::keys::bucket("p1", 3)), "{p:p1#3}:stock");
  std::set<std::uint16_t> slots;
  for (int i = 0; i < b::kMaxBuckets; ++i)
    slots.insert(redis::key_slot(catalog::keys::stock(catalog::keys::bucket("p1", i))));
  EXPECT_GE(slots.size(), 60u);  // CRC16 collisions aside, one slot each
  // A bucket's transfer keys live in its slot.
  const std::string bucket = catalog::keys::bucket("p1", 5);
  EXPECT_EQ(redis::key_slot(b::transfer_record(bucket, "x")), redis::key_slot(catalog::keys::stock(bucket)));
  EXPECT_EQ(redis::key_slot(b::transfer_received(bucket, "x")), redis::key_slot(catalog::keys::stock(bucket)));
}

TEST(StockBuckets, AUsersHomeBucketIsStableAndBuyersSpreadOverAllBuckets) {
  EXPECT_EQ(b::home_bucket("anyone", 1), 0);
  EXPECT_EQ(b::home_bucket("anyone", 0), 0);
  std::vector<int> per_bucket(8, 0);
  for (int u = 0; u < 8000; ++u) {
    const std::string user = "user-" + std::to_string(u);
    const int home = b::home_bucket(user, 8);
    ASSERT_GE(home, 0);
    ASSERT_LT(home, 8);
    EXPECT_EQ(b::home_bucket(user, 8), home);
    ++per_bucket[home];
  }
  for (int n : per_bucket) {
    EXPECT_GT(n, 800);  // 1,000 expected each
    EXPECT_LT(n, 1200);
  }
}

TEST(StockBuckets, StockIsSplitAsEvenlyAsItGoes) {
  EXPECT_EQ(b::split(10, 4), (std::vector<long long>{3, 3, 2, 2}));
  EXPECT_EQ(b::split(2, 4), (std::vector<long long>{1, 1, 0, 0}));
  EXPECT_EQ(b::split(7, 1), (std::vector<long long>{7}));
  const auto parts = b::split(100'003, 64);
  EXPECT_EQ(std::accumulate(parts.begin(), parts.end(), 0LL), 100'003);
}

TEST(StockBuckets, ARiseIsSplitAndAFallIsTakenFromTheFullestNeverBelowZero) {
  EXPECT_EQ(b::spread_change(5, {0, 9, 1}), (std::vector<long long>{2, 2, 1}));
  EXPECT_EQ(b::spread_change(-4, {1, 3, 2}), (std::vector<long long>{0, -3, -1}));
  EXPECT_EQ(b::spread_change(-6, {1, 3, 2}), (std::vector<long long>{-1, -3, -2}));
  // More asked than held: what is there (the caller reports the smaller change).
  EXPECT_EQ(b::spread_change(-10, {1, 3, 2}), (std::vector<long long>{-1, -3, -2}));
  EXPECT_EQ(b::spread_change(-1, {0, -2, 0}), (std::vector<long long>{0, 0, 0}));
}

TEST(StockBuckets, AShortHomeIsRefilledFromTheFullestOtherBucketsFirst) {
  auto gives = b::plan_gives(6, 0, {4, 3, 5, 0});
  ASSERT_EQ(gives.size(), 2u);
  EXPECT_EQ(gives[0].bucket, 2);  // the home's own 4 units are not counted as a source
  EXPECT_EQ(gives[0].units, 5);
  EXPECT_EQ(gives[1].bucket, 1);
  EXPECT_EQ(gives[1].units, 1);
  // The others hold less than needed: all of it.
  gives = b::plan_gives(10, 1, {2, 0, 3});
  ASSERT_EQ(gives.size(), 2u);
  EXPECT_EQ(gives[0].units + gives[1].units, 5);
  EXPECT_TRUE(b::plan_gives(0, 0, {0, 5}).empty());
  EXPECT_TRUE(b::plan_gives(3, 0, {0, 0}).empty());
}
