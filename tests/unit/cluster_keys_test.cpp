#include <gtest/gtest.h>

#include <set>

#include "catalog/keys.hpp"
#include "common/uuid.hpp"
#include "ordering/cluster_keys.hpp"
#include "ordering/units.hpp"
#include "storage/redis/cluster_slots.hpp"

using namespace orders;
namespace ck = ordering::cluster_keys;

TEST(ClusterKeys, AnOrderIdNamesItsPartitionAndCanBeMadeInAnyOfThem) {
  for (int p = 0; p < ck::kHomePartitions; ++p) {
    const std::string id = ck::in_partition(uuid::make_v7(), p);
    EXPECT_TRUE(uuid::is_valid(id)) << id;
    EXPECT_EQ(ck::partition_of(id), p) << id;
  }
  // Only the last byte's low bits change: the id keeps its time order and version.
  const std::string id = uuid::make_v7();
  const std::string moved = ck::in_partition(id, 5);
  EXPECT_EQ(moved.substr(0, 34), id.substr(0, 34));
  EXPECT_EQ(ck::partition_of("x"), -1);
}

TEST(ClusterKeys, EveryKeyOfAnOrderSharesTheSlotOfItsIdempotencyKey) {
  const std::string user = "alice", key = "checkout-42";
  const std::string id = ck::in_partition(uuid::make_v7(), ck::partition_of_key(user, key));
  const auto slot = redis::key_slot(ck::idempotency(user, key));
  for (const std::string& k : {ck::order(id), ck::outbox(ck::partition_of(id)), ck::outbox_entry(id), ck::abandoned(id),
                               ck::transaction(id), ck::transactions(ck::partition_of(id)), ck::no_idempotency(id)}) {
    EXPECT_EQ(redis::key_slot(k), slot) << k;
  }
  // The keys of users spread over the partitions.
  std::set<int> seen;
  for (int i = 0; i < 2000; ++i) seen.insert(ck::partition_of_key("user" + std::to_string(i), "k"));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(ck::kHomePartitions));
}

TEST(ClusterKeys, ItemsAreGroupedBySlotAndEachGroupIsNamedByItsSmallestProduct) {
  // Three products, two of them forced into one slot by sharing their id's tag is impossible
  // (ids are UUIDs): group a list where one product appears in two positions' slot instead.
  const std::string a = uuid::make_v7(), b = uuid::make_v7();
  auto groups = ck::group_by_slot({a, b, a});
  ASSERT_EQ(groups.size(),
            redis::key_slot(catalog::keys::stock(a)) == redis::key_slot(catalog::keys::stock(b)) ? 1u : 2u);
  EXPECT_EQ(groups[0].positions.front(), 0u);
  EXPECT_EQ(groups[0].first, groups.size() == 1 ? std::min(a, b) : a);
  for (const auto& g : groups) {
    for (std::size_t i : g.positions) {
      EXPECT_EQ(redis::key_slot(catalog::keys::stock(i == 1 ? b : a)), g.slot);
    }
    EXPECT_EQ(redis::key_slot(ck::part(g.first, "o")), g.slot);
    EXPECT_EQ(redis::key_slot(ck::part_void(g.first, "o")), g.slot);
    EXPECT_EQ(redis::key_slot(ck::part_returned(g.first, "o")), g.slot);
  }
}

TEST(ClusterKeys, ItemsTextRoundTrips) {
  std::vector<std::pair<std::string, long long>> items{{"p1", 2}, {"p2", 1000}};
  EXPECT_EQ(ck::items_text(items), "p1:2,p2:1000");
  EXPECT_EQ(ck::parse_items_text("p1:2,p2:1000"), items);
  EXPECT_TRUE(ck::parse_items_text("").empty());
  EXPECT_EQ(ck::parse_items_text("p1:x,p2:3").size(), 1u);
}

// The worker's and the sweeper's return of units on a cluster: one script per product slot,
// every key of it in that slot, then the DEL of the pending copy on the home slot.
TEST(ClusterKeys, UnitsGoBackPerProductSlotThenThePendingCopyGoes) {
  const std::string a = uuid::make_v7(), b = uuid::make_v7();
  const std::string order = ck::in_partition(uuid::make_v7(), 7);
  ordering::OrderUnits units{order, "bob", {{a, 2}, {b, 1}}};
  auto commands = ordering::return_units_commands(units, /*cluster=*/true);
  const auto groups = ck::group_by_slot({a, b});
  ASSERT_EQ(commands.size(), groups.size() + 1);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    ASSERT_NE(commands[i].script, nullptr);
    EXPECT_EQ(commands[i].script->name, "cluster_return");
    for (const std::string& key : commands[i].keys) EXPECT_EQ(redis::key_slot(key), groups[i].slot) << key;
    EXPECT_EQ(commands[i].args.at(0), "bob");
  }
  EXPECT_EQ(commands.back().args, (std::vector<std::string>{"DEL", ck::order(order)}));
  EXPECT_EQ(ordering::pending_order_key(order, true), ck::order(order));
  // One Redis: today's single script.
  auto single = ordering::return_units_commands(units, /*cluster=*/false);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].script->name, "return_units");
  EXPECT_EQ(ordering::pending_order_key(order, false), "order:" + order);
}
