#include <gtest/gtest.h>
#include <unistd.h>

#include "bench/cpu_accounting.hpp"

using namespace orders::bench;
using namespace std::string_literals;

TEST(CpuAccounting, ProcessesAreSortedIntoTheComponentsOfTheBox) {
  EXPECT_EQ(component_of("orders", "/x/orders\0api\0--port\08080\0"s, false), Component::kApi);
  EXPECT_EQ(component_of("orders", "orders\0worker\0"s, false), Component::kWorkers);
  EXPECT_EQ(component_of("orders", "orders\0bench\0flash-sale\0"s, false), Component::kLoadGenerator);
  EXPECT_EQ(component_of("orders", "orders\0migrate\0"s, false), Component::kOther);
  EXPECT_EQ(component_of("redis-server", "redis-server 127.0.0.1:15479"s, false), Component::kRedis);
  EXPECT_EQ(component_of("beam.smp", "", false), Component::kRabbitMq);
  EXPECT_EQ(component_of("epmd", "", false), Component::kRabbitMq);
  EXPECT_EQ(component_of("postgres", "postgres: orders orders 127.0.0.1(5000) idle"s, false), Component::kPostgres);
  EXPECT_EQ(component_of("anything", "", true), Component::kLoadGenerator);
  EXPECT_EQ(component_of("bash", "bash\0"s, false), Component::kOther);
}

TEST(CpuAccounting, TicksAreReadFromProcStatLines) {
  // A name with spaces and a parenthesis: fields count from the last ')'.
  EXPECT_EQ(process_ticks("4242 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 120 30 0 0 20 0 1 0 100"), 150);
  EXPECT_FALSE(process_ticks("4242 (short) S 1 2"));
  EXPECT_EQ(box_busy_ticks("cpu  100 5 50 1000 40 3 2 1 0 0"), 100 + 5 + 50 + 3 + 2 + 1);
  EXPECT_FALSE(box_busy_ticks("intr 1 2 3 4 5 6 7 8 9"));
}

TEST(CpuAccounting, TheRestIsWhatNoComponentAccountsFor) {
  CpuSample before, after;
  before.box_ticks = 1000;
  after.box_ticks = 1500;  // 5 s at 100 ticks/s
  before.processes[10] = {Component::kApi, 100};
  after.processes[10] = {Component::kApi, 250};    // 1.5 s
  after.processes[11] = {Component::kRedis, 100};  // started meanwhile: all of it, 1 s
  before.processes[12] = {Component::kOther, 5};
  after.processes[12] = {Component::kOther, 50};  // counted in the rest, not twice
  CpuUse use = cpu_between(before, after, 100);
  EXPECT_DOUBLE_EQ(use.box, 5.0);
  EXPECT_DOUBLE_EQ(use.seconds[static_cast<std::size_t>(Component::kApi)], 1.5);
  EXPECT_DOUBLE_EQ(use.seconds[static_cast<std::size_t>(Component::kRedis)], 1.0);
  EXPECT_DOUBLE_EQ(use.seconds[static_cast<std::size_t>(Component::kOther)], 2.5);
}

TEST(CpuAccounting, ASampleOfThisBoxFindsThisProcessAsTheLoadGenerator) {
  CpuSample s = sample_cpu();
  EXPECT_GT(s.box_ticks, 0);
  auto self = s.processes.find(static_cast<int>(::getpid()));
  ASSERT_NE(self, s.processes.end());
  EXPECT_EQ(self->second.first, Component::kLoadGenerator);
}

TEST(CpuAccounting, TheRedisOfAClusterIsSplitPerNode) {
  using namespace std::string_view_literals;
  EXPECT_EQ(redis_node_of("redis-server 127.0.0.1:7000 [cluster]"sv), "127.0.0.1:7000");
  EXPECT_EQ(redis_node_of("redis-server 127.0.0.1:6379"sv), "127.0.0.1:6379");
  EXPECT_EQ(redis_node_of("redis-server\0/etc/redis.conf\0"sv), "");
  EXPECT_EQ(redis_node_of("postgres: orders"sv), "");
  CpuSample before, after;
  after.box_ticks = 300;
  after.processes[20] = {Component::kRedis, 100};
  after.processes[21] = {Component::kRedis, 50};
  after.redis_nodes[20] = "127.0.0.1:7000";
  after.redis_nodes[21] = "127.0.0.1:7001";
  CpuUse use = cpu_between(before, after, 100);
  EXPECT_DOUBLE_EQ(use.seconds[static_cast<std::size_t>(Component::kRedis)], 1.5);
  ASSERT_EQ(use.redis_by_node.size(), 2u);
  EXPECT_DOUBLE_EQ(use.redis_by_node.at("127.0.0.1:7000"), 1.0);
  EXPECT_DOUBLE_EQ(use.redis_by_node.at("127.0.0.1:7001"), 0.5);
}
