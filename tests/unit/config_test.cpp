#include <gtest/gtest.h>

#include "config/config.hpp"

using namespace orders::config;

TEST(ConfigUrls, PostgresUrlIsParsed) {
  auto e = parse_postgres_url("postgresql://orders:secret@db.local:6543/shop");
  EXPECT_EQ(e.host, "db.local");
  EXPECT_EQ(e.port, 6543);
  EXPECT_EQ(e.user, "orders");
  EXPECT_EQ(e.password, "secret");
  EXPECT_EQ(e.database, "shop");
  EXPECT_EQ(e.conninfo, "postgresql://orders:secret@db.local:6543/shop");
}

TEST(ConfigUrls, PostgresDefaultsPortAndAcceptsShortScheme) {
  auto e = parse_postgres_url("postgres://u@127.0.0.1/db");
  EXPECT_EQ(e.port, 5432);
  EXPECT_EQ(e.database, "db");
}

TEST(ConfigUrls, PostgresErrorsNameTheSetting) {
  auto message = [](std::string_view url) {
    try {
      parse_postgres_url(url);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(""), "DATABASE_URL: is empty");
  EXPECT_NE(message("not a url").find("DATABASE_URL: is not a valid URL"), std::string::npos);
  EXPECT_NE(message("mysql://h/db").find("scheme must be postgresql:// or postgres://"), std::string::npos);
  EXPECT_NE(message("postgresql://h:99999/db").find("port '99999' is not in 1..65535"), std::string::npos);
  EXPECT_NE(message("postgresql://h:5432").find("names no database"), std::string::npos);
  EXPECT_NE(message("postgresql:///db").find("has no host"), std::string::npos);
}

TEST(ConfigUrls, RedisUrlIsParsed) {
  auto e = parse_redis_url("redis://:pw@127.0.0.1:7000/3");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 7000);
  EXPECT_EQ(e.db, 3);
  EXPECT_EQ(e.password, "pw");
  EXPECT_EQ(e.username, "");
  auto d = parse_redis_url("redis://localhost");
  EXPECT_EQ(d.port, 6379);
  EXPECT_EQ(d.db, 0);
}

TEST(ConfigUrls, RedisRejectsBadDatabaseAndScheme) {
  EXPECT_THROW(parse_redis_url("redis://h/16"), ConfigError);
  EXPECT_THROW(parse_redis_url("redis://h/x"), ConfigError);
  EXPECT_THROW(parse_redis_url("rediss://h/0"), ConfigError);
  try {
    parse_redis_url("http://h/0", "REDIS_URL");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("REDIS_URL"), std::string::npos);
  }
}

TEST(ConfigUrls, AmqpUrlIsParsedWithDefaultVhost) {
  auto e = parse_amqp_url("amqp://orders:orders@127.0.0.1:15472/");
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_EQ(e.port, 15472);
  EXPECT_EQ(e.user, "orders");
  EXPECT_EQ(e.password, "orders");
  EXPECT_EQ(e.vhost, "/");
  EXPECT_EQ(parse_amqp_url("amqp://h").vhost, "/");
  EXPECT_EQ(parse_amqp_url("amqp://h/%2f").vhost, "/");
  EXPECT_EQ(parse_amqp_url("amqp://h/shop").vhost, "shop");
  EXPECT_EQ(parse_amqp_url("amqp://h").user, "guest");
  EXPECT_EQ(parse_amqp_url("amqp://h").port, 5672);
}

TEST(ConfigUrls, AmqpRejectsOtherSchemes) { EXPECT_THROW(parse_amqp_url("http://h/"), ConfigError); }

TEST(ConfigUrls, AmqpListNamesTheNodesOfAClusterInOrder) {
  auto nodes = parse_amqp_urls(
      "amqp://orders:orders@127.0.0.1:5701/, amqp://orders:orders@127.0.0.1:5702/ ,amqp://b/shop");
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].port, 5701);
  EXPECT_EQ(nodes[1].port, 5702);
  EXPECT_EQ(nodes[1].user, "orders");
  EXPECT_EQ(nodes[2].host, "b");
  EXPECT_EQ(nodes[2].vhost, "shop");
  // One URL is a list of one, with the messages of parse_amqp_url.
  auto one = parse_amqp_urls("amqp://h:1/");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].port, 1);
}

TEST(ConfigUrls, AmqpListRefusesEmptyItemsRepeatsAndBadUrlsNamingTheItem) {
  auto message_of = [](std::string_view urls) {
    try {
      parse_amqp_urls(urls);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message_of(""), "RABBITMQ_URL: is empty");
  EXPECT_EQ(message_of("  "), "RABBITMQ_URL: is empty");
  EXPECT_EQ(message_of("amqp://a/,"), "RABBITMQ_URL (URL 2 of 2): is empty (a stray comma?)");
  EXPECT_EQ(message_of("amqp://a:1/,,amqp://b/"), "RABBITMQ_URL (URL 2 of 3): is empty (a stray comma?)");
  EXPECT_EQ(message_of("amqp://a:1/,amqp://a:1/shop"), "RABBITMQ_URL (URL 2 of 2): names a:1 twice");
  EXPECT_EQ(message_of("amqp://a/,http://b/"), "RABBITMQ_URL (URL 2 of 2): scheme must be amqp://, got 'http'");
  EXPECT_NE(message_of("amqp://a/,amqp://b:99999/").find("RABBITMQ_URL (URL 2 of 2): port '99999'"), std::string::npos);
}

TEST(ConfigUrls, RedisClusterNodesAreHostPortPairsNamedInTheirErrors) {
  auto nodes = parse_host_ports("127.0.0.1:7000, redis-a:7001,[::1]:7002");
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].host, "127.0.0.1");
  EXPECT_EQ(nodes[0].port, 7000);
  EXPECT_EQ(nodes[1].host, "redis-a");
  EXPECT_EQ(nodes[2].host, "::1");
  auto message_of = [](std::string_view list) {
    try {
      parse_host_ports(list);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message_of(""), "REDIS_CLUSTER_NODES: is empty");
  EXPECT_EQ(message_of("a:1,"), "REDIS_CLUSTER_NODES (node 2 of 2): is empty (a stray comma?)");
  EXPECT_EQ(message_of("a"), "REDIS_CLUSTER_NODES (node 1 of 1): 'a' is not host:port");
  EXPECT_EQ(message_of("a:0"), "REDIS_CLUSTER_NODES (node 1 of 1): port '0' is not in 1..65535");
  EXPECT_EQ(message_of("a:1,a:1"), "REDIS_CLUSTER_NODES (node 2 of 2): names a:1 twice");
}
