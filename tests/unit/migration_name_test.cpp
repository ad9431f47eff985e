#include <gtest/gtest.h>

#include "storage/postgres/migrator.hpp"

using namespace orders::postgres;

TEST(MigrationNames, VersionComesFromTheNumberedPrefix) {
  auto m = parse_migration_name("0001_schema.sql");
  EXPECT_EQ(m.version, "0001");
  EXPECT_EQ(m.name, "0001_schema.sql");
}

TEST(MigrationNames, RejectsFilesThatAreNotNumbered) {
  EXPECT_THROW(parse_migration_name("schema.sql"), std::runtime_error);
  EXPECT_THROW(parse_migration_name("1_schema.sql"), std::runtime_error);
  EXPECT_THROW(parse_migration_name("0001-schema.sql"), std::runtime_error);
  EXPECT_THROW(parse_migration_name("0001_schema.txt"), std::runtime_error);
}

TEST(MigrationNames, EmbeddedMigrationsAreOrderedAndStartWithTheSchema) {
  auto all = embedded_migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().name, "0001_schema.sql");
  EXPECT_NE(all.front().sql.find("CREATE TABLE orders"), std::string::npos);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].name, all[i].name);
}
