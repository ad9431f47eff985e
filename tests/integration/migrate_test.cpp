#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <thread>
#include <vector>

#include "common/uuid.hpp"
#include "config/config.hpp"
#include "support/api_helpers.hpp"
#include "support/process.hpp"

using namespace orders::testing;

namespace {

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;

Conn connect(const std::string& url) {
  Conn c(PQconnectdb(url.c_str()), &PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c.get()));
  return c;
}

std::string scalar(PGconn* c, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c, sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) throw std::runtime_error(PQresultErrorMessage(r.get()));
  return PQgetvalue(r.get(), 0, 0);
}

// A database of its own for each test, dropped afterwards.
class FreshDatabase {
 public:
  FreshDatabase() : admin_(connect(required_env("DATABASE_URL"))) {
    name_ = "migrate_" + orders::uuid::make_v7().substr(24);
    exec("CREATE DATABASE " + name_);
    auto base = orders::config::parse_postgres_url(required_env("DATABASE_URL"));
    url_ = "postgresql://" + base.user + ":" + base.password + "@" + base.host + ":" + std::to_string(base.port) + "/" +
           name_;
  }
  ~FreshDatabase() { exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"); }
  const std::string& url() const { return url_; }

 private:
  void exec(const std::string& sql) { PQclear(PQexec(admin_.get(), sql.c_str())); }
  Conn admin_;
  std::string name_;
  std::string url_;
};

}  // namespace

TEST(Migrate, AppliesEverythingOnceAndTheSecondRunChangesNothing) {
  FreshDatabase db;
  auto first = run({required_env("ORDERS_BINARY"), "migrate", "--database-url", db.url()});
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("applied 0001_schema.sql"), std::string::npos) << first.output;

  auto c = connect(db.url());
  const std::string count = scalar(c.get(), "SELECT count(*) FROM schema_migrations");
  EXPECT_GE(std::stoi(count), 1);
  for (const char* table : {"categories", "products", "orders", "order_items", "inventory_movements", "order_events"}) {
    EXPECT_EQ(scalar(c.get(), std::string("SELECT to_regclass('public.") + table + "') IS NOT NULL"), "t") << table;
  }

  auto second = run({required_env("ORDERS_BINARY"), "migrate", "--database-url", db.url()});
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find("0 applied"), std::string::npos) << second.output;
  EXPECT_EQ(scalar(c.get(), "SELECT count(*) FROM schema_migrations"), count);
}

TEST(Migrate, TwoConcurrentRunsApplyEachMigrationOnce) {
  FreshDatabase db;
  Process a({required_env("ORDERS_BINARY"), "migrate", "--database-url", db.url()});
  Process b({required_env("ORDERS_BINARY"), "migrate", "--database-url", db.url()});
  auto ca = a.wait(std::chrono::seconds(60));
  auto cb = b.wait(std::chrono::seconds(60));
  ASSERT_TRUE(ca && cb);
  EXPECT_EQ(*ca, 0) << a.output();
  EXPECT_EQ(*cb, 0) << b.output();
  auto c = connect(db.url());
  EXPECT_EQ(scalar(c.get(), "SELECT count(*) = count(DISTINCT version) FROM schema_migrations"), "t");
  // Exactly one of the two reports having applied the schema.
  int appliers = (a.output().find("applied 0001") != std::string::npos) +
                 (b.output().find("applied 0001") != std::string::npos);
  EXPECT_EQ(appliers, 1) << a.output() << b.output();
}

TEST(Migrate, SchemaConstraintsRefuseWhatMustNeverHappen) {
  FreshDatabase db;
  ASSERT_EQ(run({required_env("ORDERS_BINARY"), "migrate", "--database-url", db.url()}).code, 0);
  auto c = connect(db.url());
  auto fails = [&](const std::string& sql) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(c.get(), sql.c_str()), &PQclear);
    return PQresultStatus(r.get()) == PGRES_FATAL_ERROR;
  };
  const std::string p = "'0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d'";
  const std::string o = "'0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9e'";
  EXPECT_TRUE(fails("INSERT INTO products (id, name, price, stock) VALUES (" + p + ", 'x', 1.00, -1)"));
  EXPECT_FALSE(fails("INSERT INTO products (id, name, price, stock) VALUES (" + p + ", 'x', 1.00, 5)"));
  EXPECT_TRUE(fails("UPDATE products SET stock = stock - 6"));
  EXPECT_FALSE(
      fails("INSERT INTO orders (id, reference_no, user_id, status, total_price, idempotency_key, created_at) "
            "VALUES (" +
            o + ", 'R1', 'u1', 'PENDING', 1, 'k', now())"));
  EXPECT_TRUE(
      fails("INSERT INTO orders (id, reference_no, user_id, status, total_price, idempotency_key, created_at) "
            "VALUES ('0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9f', 'R2', 'u1', 'PENDING', 1, 'k', now())"))
      << "same user and idempotency key";
  EXPECT_TRUE(fails("INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price) VALUES (" + o +
                    ", " + p + ", 0, 1, 0)"));
  EXPECT_TRUE(
      fails("INSERT INTO orders (id, reference_no, user_id, status, total_price, created_at) VALUES "
            "('0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8ca0', 'R3', 'u1', 'SHIPPED', 1, now())"));
  EXPECT_TRUE(
      fails("INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price) VALUES ("
            "'0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8ca1', " +
            p + ", 1, 1, 1)"))
      << "foreign key";
}

// 0008 rewrote the user id's check without a bounded repetition: it must hold exactly the API's
// rule, 1 to 64 of A-Z a-z 0-9 _ . @ -.
TEST(Migrate, UserIdCheckHoldsTheApisRule) {
  FreshDatabase db;
  ASSERT_EQ(run({required_env("ORDERS_BINARY"), "migrate", "--database-url", db.url()}).code, 0);
  auto c = connect(db.url());
  int n = 0;
  auto stored = [&](const std::string& user_id) {
    const std::string id = orders::uuid::make_v7();
    const std::string sql =
        "INSERT INTO orders (id, reference_no, user_id, status, total_price, created_at) VALUES ('" + id + "', 'R" +
        std::to_string(++n) + "', $1, 'PENDING', 1, now())";
    const char* values[] = {user_id.c_str()};
    std::unique_ptr<PGresult, decltype(&PQclear)> r(
        PQexecParams(c.get(), sql.c_str(), 1, nullptr, values, nullptr, nullptr, 0), &PQclear);
    return PQresultStatus(r.get()) == PGRES_COMMAND_OK;
  };
  for (const std::string& ok : std::vector<std::string>{"a", "user-1", "A.Z_@-9", "-", std::string(64, 'z')})
    EXPECT_TRUE(stored(ok)) << ok;
  EXPECT_EQ(scalar(c.get(), "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_user_id_check'"), "t")
      << "0009 validates 0008's check over the rows before it";
  for (const std::string& bad : std::vector<std::string>{"", "a b", "caf\xc3\xa9", "a\n", "\na", "a$", "[a]", "a]",
                                                         "^a", "a\\b", "a+b", std::string(65, 'z')}) {
    EXPECT_FALSE(stored(bad)) << bad;
  }
}

TEST(Seed, LoadsTheDemoCatalogWithCountersAndIsIdempotent) {
  FreshDatabase db;
  ASSERT_EQ(run({required_env("ORDERS_BINARY"), "migrate", "--database-url", db.url()}).code, 0);
  auto first = run({required_env("ORDERS_BINARY"), "seed", "--database-url", db.url()});
  ASSERT_EQ(first.code, 0) << first.output;
  EXPECT_NE(first.output.find("6 categories and 20 products created"), std::string::npos) << first.output;
  auto c = connect(db.url());
  EXPECT_EQ(scalar(c.get(), "SELECT count(*) FROM categories"), "6");
  EXPECT_EQ(scalar(c.get(), "SELECT count(*) FROM products WHERE sku LIKE 'SEED-%'"), "20");
  EXPECT_EQ(scalar(c.get(),
                   "SELECT count(*) FROM products WHERE max_per_user IS NOT NULL AND sale_starts_at < now()"
                   " AND sale_ends_at > now()"),
            "1")
      << "one flash-sale product with a limit and an open sale window";
  EXPECT_EQ(scalar(c.get(),
                   "SELECT bool_and(stock = (SELECT sum(delta) FROM inventory_movements m"
                   " WHERE m.product_id = p.id)) FROM products p"),
            "t")
      << "every product's stock is its ledger's sum";
  const std::string flash = scalar(c.get(),
                                   "SELECT id::text || ' ' || stock FROM products WHERE sku = 'SEED-FLASH-001'");
  EXPECT_EQ(orders::testing::redis_get("{p:" + flash.substr(0, 36) + "}:stock"), flash.substr(37))
      << "the counter starts at the stock";

  auto second = run({required_env("ORDERS_BINARY"), "seed", "--database-url", db.url()});
  ASSERT_EQ(second.code, 0) << second.output;
  EXPECT_NE(second.output.find("0 categories and 0 products created, 26 already present"), std::string::npos)
      << second.output;
  EXPECT_EQ(scalar(c.get(), "SELECT count(*) FROM products"), "20");
}
