#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace orders::postgres {

struct Migration {
  std::string version;  // "0001" from "0001_schema.sql"
  std::string name;     // "0001_schema.sql"
  std::string sql;
};

// The migrations embedded in the binary (migrations/*.sql at build time), in order.
std::vector<Migration> embedded_migrations();
// The *.sql files of a directory, in order. Throws std::runtime_error on a bad file name.
std::vector<Migration> load_migrations(const std::filesystem::path& dir);

// Splits "0001_schema.sql" into version and name; throws on anything else.
Migration parse_migration_name(const std::string& file_name);

struct MigrationReport {
  std::vector<std::string> applied;  // names applied by this run
  std::size_t already = 0;           // already applied before
};

// Applies what is missing, in order, each in its own transaction, recorded in
// schema_migrations. An advisory lock makes concurrent runs safe; a migration whose text
// changed after it was applied is an error. Blocking (libpq's synchronous API): this is a
// command, not a request path. Throws DependencyUnavailable or std::runtime_error.
MigrationReport migrate(const std::string& conninfo, const std::vector<Migration>& migrations);

}  // namespace orders::postgres
