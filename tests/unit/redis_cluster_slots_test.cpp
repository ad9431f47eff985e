#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/redis/cluster_slots.hpp"

namespace {

using orders::redis::classify_cluster_error;
using orders::redis::ClusterErrorKind;
using orders::redis::ClusterNode;
using orders::redis::is_retryable;
using orders::redis::key_slot;
using orders::redis::parse_redirect;
using orders::redis::Redirect;
using orders::redis::Reply;
using orders::redis::SlotMap;

Reply integer(long long n) {
  Reply r;
  r.type = Reply::Type::kInteger;
  r.integer = n;
  return r;
}

Reply bulk(std::string s) {
  Reply r;
  r.type = Reply::Type::kString;
  r.str = std::move(s);
  return r;
}

Reply array(std::vector<Reply> elements) {
  Reply r;
  r.type = Reply::Type::kArray;
  r.elements = std::move(elements);
  return r;
}

Reply node(std::string host, int port, std::string id) {
  return array({bulk(std::move(host)), integer(port), bulk(std::move(id))});
}

// Three masters over 0-16383 as `redis-cli --cluster create` makes them; the first range has a
// replica, the third master's host is empty (a node that has not learned its own IP).
Reply three_masters() {
  return array({
      array({integer(0), integer(5460), node("127.0.0.1", 7000, "a"), node("127.0.0.1", 7003, "d")}),
      array({integer(5461), integer(10922), node("127.0.0.1", 7001, "b")}),
      array({integer(10923), integer(16383), node("", 7002, "c")}),
  });
}

TEST(ClusterSlotKey, KnownValuesMatchRedis) {
  // The check value of CRC16/XMODEM is 0x31C3; 0x31C3 & 16383 = 12739.
  EXPECT_EQ(key_slot("123456789"), 12739);
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(ClusterSlotKey, HashTagDecidesTheSlot) {
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  EXPECT_EQ(key_slot("{user1000}.followers"), key_slot("user1000"));
  EXPECT_EQ(key_slot("foo{bar}{zap}"), key_slot("bar"));
}

TEST(ClusterSlotKey, TagRulesFollowKeyHashSlot) {
  // An empty first tag: the whole key, even with a later non-empty one.
  EXPECT_EQ(key_slot("foo{}{bar}"), 8363);
  EXPECT_NE(key_slot("foo{}{bar}"), key_slot("bar"));
  // The first '}' after the first '{' ends the tag.
  EXPECT_EQ(key_slot("foo{{bar}}zap"), key_slot("{bar"));
  EXPECT_EQ(key_slot("foo{{bar}}zap"), 4015);
  // No '}' after the '{': the whole key.
  EXPECT_EQ(key_slot("foo{bar"), 15278);
  // A '}' before the first '{' is no tag.
  EXPECT_EQ(key_slot("}bar{"), 1498);
}

TEST(ClusterSlotKey, BinaryKeysAreHashedByteForByte) {
  // A NUL is a byte like any other, not the end of the key.
  EXPECT_EQ(key_slot(std::string("a\0b", 3)), 8383);
  EXPECT_EQ(key_slot("a"), 15495);
  EXPECT_EQ(key_slot(std::string("{\xff\x00}x", 5)), 1023);
}

TEST(ClusterSlotMap, BuiltFromClusterSlots) {
  std::string why;
  auto map = SlotMap::from_cluster_slots(three_masters(), "10.0.0.9", &why);
  ASSERT_TRUE(map) << why;
  EXPECT_TRUE(map->covers_all());
  ASSERT_NE(map->master_for(0), nullptr);
  EXPECT_EQ(*map->master_for(0), (ClusterNode{"127.0.0.1", 7000}));
  EXPECT_EQ(*map->master_for(5460), (ClusterNode{"127.0.0.1", 7000}));
  EXPECT_EQ(*map->master_for(5461), (ClusterNode{"127.0.0.1", 7001}));
  EXPECT_EQ(*map->master_for(10922), (ClusterNode{"127.0.0.1", 7001}));
  // The empty host is the address CLUSTER SLOTS was asked at.
  EXPECT_EQ(*map->master_for(16383), (ClusterNode{"10.0.0.9", 7002}));
  EXPECT_EQ(map->master_for(16384), nullptr);
}

TEST(ClusterSlotMap, MastersAreDistinctSortedAndNoReplica) {
  auto map = SlotMap::from_cluster_slots(three_masters(), "127.0.0.1");
  ASSERT_TRUE(map);
  std::vector<ClusterNode> expected{{"127.0.0.1", 7000}, {"127.0.0.1", 7001}, {"127.0.0.1", 7002}};
  EXPECT_EQ(map->masters(), expected);
}

TEST(ClusterSlotMap, OneMasterWithSeveralRangesIsListedOnce) {
  Reply reply = array({
      array({integer(8192), integer(16383), node("127.0.0.1", 7000, "a")}),
      array({integer(0), integer(8191), node("127.0.0.1", 7000, "a")}),
  });
  auto map = SlotMap::from_cluster_slots(reply, "127.0.0.1");
  ASSERT_TRUE(map);
  EXPECT_TRUE(map->covers_all());
  EXPECT_EQ(map->masters(), (std::vector<ClusterNode>{{"127.0.0.1", 7000}}));
}

TEST(ClusterSlotMap, GapsAreUncovered) {
  Reply reply = array({
      array({integer(0), integer(99), node("127.0.0.1", 7000, "a")}),
      array({integer(200), integer(16383), node("127.0.0.1", 7001, "b")}),
  });
  auto map = SlotMap::from_cluster_slots(reply, "127.0.0.1");
  ASSERT_TRUE(map);
  EXPECT_FALSE(map->covers_all());
  EXPECT_NE(map->master_for(99), nullptr);
  EXPECT_EQ(map->master_for(100), nullptr);
  EXPECT_EQ(map->master_for(199), nullptr);
  EXPECT_NE(map->master_for(200), nullptr);
}

TEST(ClusterSlotMap, NoSlotsAssignedIsAnEmptyMap) {
  auto map = SlotMap::from_cluster_slots(array({}), "127.0.0.1");
  ASSERT_TRUE(map);
  EXPECT_FALSE(map->covers_all());
  EXPECT_EQ(map->master_for(0), nullptr);
  EXPECT_TRUE(map->masters().empty());
}

TEST(ClusterSlotMap, MalformedRepliesAreRejectedWithAReason) {
  Reply error;
  error.type = Reply::Type::kError;
  error.str = "ERR This instance has cluster support disabled";
  std::vector<Reply> bad{
      error,
      bulk("OK"),
      array({bulk("not a range")}),
      array({array({integer(0), integer(100)})}),                                           // no master
      array({array({integer(100), integer(0), node("127.0.0.1", 7000, "a")})}),             // start > end
      array({array({integer(0), integer(16384), node("127.0.0.1", 7000, "a")})}),           // past the last slot
      array({array({integer(-1), integer(10), node("127.0.0.1", 7000, "a")})}),             // negative
      array({array({bulk("0"), integer(10), node("127.0.0.1", 7000, "a")})}),               // slot as a string
      array({array({integer(0), integer(10), array({bulk("127.0.0.1")})})}),                // no port
      array({array({integer(0), integer(10), array({bulk("127.0.0.1"), bulk("7000")})})}),  // port as a string
      array({array({integer(0), integer(10), node("127.0.0.1", 0, "a")})}),                 // port 0
      array({array({integer(0), integer(10), array({integer(1), integer(7000)})})}),        // host as an integer
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    std::string why;
    EXPECT_FALSE(SlotMap::from_cluster_slots(bad[i], "127.0.0.1", &why)) << "case " << i;
    EXPECT_FALSE(why.empty()) << "case " << i;
  }
  std::string why;
  SlotMap::from_cluster_slots(error, "127.0.0.1", &why);
  EXPECT_NE(why.find("cluster support disabled"), std::string::npos) << why;
}

TEST(ClusterSlotMap, MoveSlotReroutesOneSlot) {
  auto map = SlotMap::from_cluster_slots(three_masters(), "127.0.0.1");
  ASSERT_TRUE(map);
  const ClusterNode* before = map->master_for(3999);
  map->move_slot(3999, ClusterNode{"127.0.0.1", 7005});
  EXPECT_EQ(*map->master_for(3999), (ClusterNode{"127.0.0.1", 7005}));
  EXPECT_EQ(*map->master_for(3998), (ClusterNode{"127.0.0.1", 7000}));
  EXPECT_EQ(*map->master_for(4000), (ClusterNode{"127.0.0.1", 7000}));
  // A node already known is reused, and pointers handed out before stay valid.
  EXPECT_EQ(*before, (ClusterNode{"127.0.0.1", 7000}));
  map->move_slot(4000, ClusterNode{"127.0.0.1", 7005});
  EXPECT_EQ(map->master_for(4000), map->master_for(3999));
  EXPECT_EQ(map->masters().size(), 4u);
}

TEST(ClusterSlotMap, MoveSlotFillsAGapAndDropsANodeWithoutSlots) {
  Reply reply = array({
      array({integer(0), integer(0), node("127.0.0.1", 7000, "a")}),
      array({integer(2), integer(16383), node("127.0.0.1", 7001, "b")}),
  });
  auto map = SlotMap::from_cluster_slots(reply, "127.0.0.1");
  ASSERT_TRUE(map);
  map->move_slot(1, ClusterNode{"127.0.0.1", 7001});
  EXPECT_TRUE(map->covers_all());
  map->move_slot(0, ClusterNode{"127.0.0.1", 7001});
  EXPECT_EQ(map->masters(), (std::vector<ClusterNode>{{"127.0.0.1", 7001}}));
}

TEST(ClusterSlotNode, ToStringBracketsIpv6) {
  EXPECT_EQ((ClusterNode{"127.0.0.1", 6381}).to_string(), "127.0.0.1:6381");
  EXPECT_EQ((ClusterNode{"::1", 6381}).to_string(), "[::1]:6381");
}

TEST(ClusterSlotRedirect, MovedAndAsk) {
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Redirect::Kind::kMoved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->node, (ClusterNode{"127.0.0.1", 6381}));

  auto ask = parse_redirect("ASK 0 redis-7.internal:7000");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Redirect::Kind::kAsk);
  EXPECT_EQ(ask->slot, 0);
  EXPECT_EQ(ask->node, (ClusterNode{"redis-7.internal", 7000}));

  auto last = parse_redirect("MOVED 16383 127.0.0.1:65535");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->slot, 16383);
  EXPECT_EQ(last->node.port, 65535);
}

TEST(ClusterSlotRedirect, Ipv6BracketedOrBare) {
  auto bracketed = parse_redirect("MOVED 3999 [::1]:6381");
  ASSERT_TRUE(bracketed);
  EXPECT_EQ(bracketed->node, (ClusterNode{"::1", 6381}));
  auto bare = parse_redirect("ASK 3999 ::1:6381");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->node, (ClusterNode{"::1", 6381}));
  auto full = parse_redirect("MOVED 1 fe80::1:2:3:7000");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->node, (ClusterNode{"fe80::1:2:3", 7000}));
}

TEST(ClusterSlotRedirect, EmptyHostMeansTheAddressAsked) {
  auto moved = parse_redirect("MOVED 3999 :6381");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->node, (ClusterNode{"", 6381}));
}

TEST(ClusterSlotRedirect, GarbageIsNotARedirect) {
  for (const char* text :
       {"", "MOVED", "MOVED 3999", "MOVED 3999 127.0.0.1", "MOVED 3999 127.0.0.1:", "MOVED 3999 127.0.0.1:x",
        "MOVED 16384 127.0.0.1:6381", "MOVED -1 127.0.0.1:6381", "MOVED +1 127.0.0.1:6381", "MOVED x 127.0.0.1:6381",
        "MOVED 3999 127.0.0.1:0", "MOVED 3999 127.0.0.1:65536", "MOVED 3999 127.0.0.1:6381 extra",
        "MOVED  3999 127.0.0.1:6381", "moved 3999 127.0.0.1:6381", "ASKING 3999 127.0.0.1:6381",
        "TRYAGAIN Multiple keys request during rehashing of slot", "ERR unknown command"}) {
    EXPECT_FALSE(parse_redirect(text)) << text;
  }
}

TEST(ClusterSlotError, ClassifiedByFirstWord) {
  EXPECT_EQ(classify_cluster_error(""), ClusterErrorKind::kNone);
  EXPECT_EQ(classify_cluster_error("MOVED 3999 127.0.0.1:6381"), ClusterErrorKind::kMoved);
  EXPECT_EQ(classify_cluster_error("ASK 3999 127.0.0.1:6381"), ClusterErrorKind::kAsk);
  EXPECT_EQ(classify_cluster_error("TRYAGAIN Multiple keys request during rehashing of slot"),
            ClusterErrorKind::kTryAgain);
  EXPECT_EQ(classify_cluster_error("CLUSTERDOWN The cluster is down"), ClusterErrorKind::kClusterDown);
  EXPECT_EQ(classify_cluster_error("LOADING Redis is loading the dataset in memory"), ClusterErrorKind::kLoading);
  EXPECT_EQ(classify_cluster_error("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
            ClusterErrorKind::kMasterDown);
  EXPECT_EQ(classify_cluster_error("NOSCRIPT No matching script. Please use EVAL."), ClusterErrorKind::kNoScript);
  EXPECT_EQ(classify_cluster_error("CROSSSLOT Keys in request don't hash to the same slot"),
            ClusterErrorKind::kCrossSlot);
  EXPECT_EQ(classify_cluster_error("CLUSTERDOWN"), ClusterErrorKind::kClusterDown);
  EXPECT_EQ(classify_cluster_error("ERR unknown command 'FOO'"), ClusterErrorKind::kOther);
  EXPECT_EQ(classify_cluster_error("MOVEDX 1 a:1"), ClusterErrorKind::kOther);
  EXPECT_EQ(classify_cluster_error("WRONGTYPE Operation against a key holding the wrong kind of value"),
            ClusterErrorKind::kOther);
}

TEST(ClusterSlotError, OnlyTransientErrorsAreRetryable) {
  EXPECT_TRUE(is_retryable(ClusterErrorKind::kTryAgain));
  EXPECT_TRUE(is_retryable(ClusterErrorKind::kClusterDown));
  EXPECT_TRUE(is_retryable(ClusterErrorKind::kLoading));
  EXPECT_TRUE(is_retryable(ClusterErrorKind::kMasterDown));
  // MOVED/ASK are redirects, NOSCRIPT needs a load first, CROSSSLOT is a bug in the caller.
  for (auto kind : {ClusterErrorKind::kNone, ClusterErrorKind::kMoved, ClusterErrorKind::kAsk,
                    ClusterErrorKind::kNoScript, ClusterErrorKind::kCrossSlot, ClusterErrorKind::kOther}) {
    EXPECT_FALSE(is_retryable(kind)) << static_cast<int>(kind);
  }
}

}  // namespace
