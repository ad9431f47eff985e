#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>

#include "common/uuid.hpp"
#include "config/config.hpp"
#include "support/api_helpers.hpp"
#include "support/http_client.hpp"
#include "support/own_stack.hpp"
#include "support/process.hpp"

// LOG_FORMAT=json for the one-shot commands: the summary is one JSON object on stdout, an
// error one JSON log line on stderr (and nothing on stdout).
using namespace orders::testing;
namespace json = boost::json;

namespace {

using Split = JsonCommand;

// `orders SUB args...` with LOG_FORMAT=json, stdout and stderr apart.
Split run_json(const std::string& sub, std::vector<std::string> args) {
  args.insert(args.begin(), sub);
  return run_orders_json(args);
}

std::string url_of(const std::string& database) {
  auto base = orders::config::parse_postgres_url(required_env("DATABASE_URL"));
  return "postgresql://" + base.user + ":" + base.password + "@" + base.host + ":" + std::to_string(base.port) + "/" +
         database;
}

// Every JSON error line: level error, the message naming the command.
void expect_json_error(const Split& s, const std::string& command) {
  EXPECT_EQ(s.out, "");
  boost::system::error_code ec;
  auto line = json::parse(s.err, ec);
  ASSERT_FALSE(ec) << s.err;
  EXPECT_EQ(line.at("level"), "error") << s.err;
  EXPECT_EQ(std::string(line.at("msg").as_string()).rfind("orders " + command + ": ", 0), 0u) << s.err;
}

}  // namespace

TEST(MigrateJson, ListsWhatItAppliedThenThatAllIsUpToDate) {
  const std::string name = "json_" + orders::uuid::make_v7().substr(24);
  psql("CREATE DATABASE " + name);
  struct Drop {
    std::string name;
    ~Drop() { psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }
  } drop{name};

  auto first = run_json("migrate", {"--database-url", url_of(name)});
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  auto applied = summary_of(first.out);
  ASSERT_TRUE(applied["applied"].is_array()) << first.out;
  const auto count = applied["applied"].as_array().size();
  EXPECT_GE(count, 5u) << first.out;
  EXPECT_EQ(applied["applied"].as_array()[0], "0001_schema.sql") << first.out;
  EXPECT_EQ(applied["alreadyUpToDate"], 0) << first.out;
  EXPECT_NE(std::string(applied["database"].as_string()).find(name), std::string::npos) << first.out;

  auto again = run_json("migrate", {"--database-url", url_of(name)});
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  auto up_to_date = summary_of(again.out);
  EXPECT_TRUE(up_to_date["applied"].as_array().empty()) << again.out;
  EXPECT_EQ(up_to_date["alreadyUpToDate"].to_number<std::size_t>(), count) << again.out;

  // Text mode is as it was.
  auto text = run({required_env("ORDERS_BINARY"), "migrate", "--database-url", url_of(name)});
  EXPECT_NE(text.output.find("migrations: 0 applied, " + std::to_string(count) + " already up to date ("),
            std::string::npos)
      << text.output;
}

TEST(MigrateJson, ErrorsAreJsonLogLines) {
  auto failed = run_json(
      "migrate", {"--database-url", "postgresql://orders:orders@127.0.0.1:" + std::to_string(free_port()) + "/none"});
  EXPECT_EQ(failed.code, 3);
  expect_json_error(failed, "migrate");
}

TEST(SeedJson, CountsWhatItCreatedThenWhatWasThere) {
  MigratedDatabase db;
  auto first = run_json("seed", {"--database-url", db.url});
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  auto created = summary_of(first.out);
  EXPECT_EQ(created["categoriesCreated"], 6) << first.out;
  EXPECT_EQ(created["productsCreated"], 20) << first.out;
  EXPECT_EQ(created["alreadyPresent"], 0) << first.out;

  auto again = run_json("seed", {"--database-url", db.url});
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  auto present = summary_of(again.out);
  EXPECT_EQ(present["categoriesCreated"], 0) << again.out;
  EXPECT_EQ(present["productsCreated"], 0) << again.out;
  EXPECT_EQ(present["alreadyPresent"], 26) << again.out;

  auto text = run({required_env("ORDERS_BINARY"), "seed", "--database-url", db.url});
  EXPECT_NE(text.output.find("seed: 0 categories and 0 products created, 26 already present"), std::string::npos)
      << text.output;
}

TEST(SeedJson, ErrorsAreJsonLogLines) {
  // A Redis nobody serves: the one node, or on the clusters a seed list of one dead node.
  const std::string dead = "127.0.0.1:" + std::to_string(free_port());
  auto failed = cluster_mode() ? run_json("seed", {"--redis-cluster-nodes", dead})
                               : run_json("seed", {"--redis-url", "redis://" + dead + "/0"});
  EXPECT_EQ(failed.code, 3);
  expect_json_error(failed, "seed");
}
