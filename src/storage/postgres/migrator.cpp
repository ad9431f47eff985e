#include "storage/postgres/migrator.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "common/dependency_error.hpp"
#include "common/embedded.hpp"
#include "storage/postgres/blocking.hpp"
#include "storage/postgres/result.hpp"

namespace orders::postgres {
namespace {

// Any constant works; it only has to be the same in every `orders migrate`.
constexpr long long kMigrationLockKey = 0x6f72646572730001;

std::string checksum(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// Without parameters over the simple protocol: a migration file holds several statements.
Result exec(BlockingConnection& c, const std::string& sql) { return c.exec_script(sql); }

Result exec(BlockingConnection& c, const std::string& sql, const std::vector<std::string>& params) {
  Params values;
  for (const auto& p : params) values.add(p);
  return c.exec(sql, values);
}

}  // namespace

Migration parse_migration_name(const std::string& file_name) {
  static const std::regex kPattern(R"(^([0-9]{4})_([a-z0-9_]+)\.sql$)");
  std::smatch m;
  if (!std::regex_match(file_name, m, kPattern)) {
    throw std::runtime_error("migration file '" + file_name + "' is not named NNNN_name.sql");
  }
  return Migration{m[1].str(), file_name, {}};
}

std::vector<Migration> embedded_migrations() {
  std::vector<Migration> out;
  for (const auto& file : embedded::all()) {
    if (!file.name.starts_with("migrations/")) continue;
    Migration m = parse_migration_name(std::string(file.name.substr(11)));
    m.sql = std::string(file.content);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<Migration> load_migrations(const std::filesystem::path& dir) {
  std::vector<Migration> out;
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error("migrations directory " + dir.string() + " not found");
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".sql") continue;
    Migration m = parse_migration_name(entry.path().filename().string());
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    m.sql = text.str();
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) { return a.name < b.name; });
  return out;
}

MigrationReport migrate(const std::string& conninfo, const std::vector<Migration>& migrations) {
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      throw std::runtime_error("two migrations share version " + migrations[i].version);
    }
  }
  ConnectOptions options;
  options.timeout = std::chrono::seconds(5);
  options.application_name = "orders-migrate";
  BlockingConnection c = BlockingConnection::connect(conninfo, options);
  exec(c, "SET client_min_messages = warning").expect_ok("set");
  // Session-level lock: a second `orders migrate` waits here until the first is done.
  exec(c, "SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) + ")").expect_ok("advisory lock");
  exec(c,
       "CREATE TABLE IF NOT EXISTS schema_migrations ("
       " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
       " applied_at timestamptz NOT NULL DEFAULT now())")
      .expect_ok("create schema_migrations");

  std::map<std::string, std::pair<std::string, std::string>> applied;  // version -> (name, checksum)
  Result rows = exec(c, "SELECT version, name, checksum FROM schema_migrations");
  rows.expect_ok("read schema_migrations");
  for (int r = 0; r < rows.rows(); ++r) {
    applied[std::string(rows.get(r, 0))] = {std::string(rows.get(r, 1)), std::string(rows.get(r, 2))};
  }

  MigrationReport report;
  for (const Migration& m : migrations) {
    const std::string sum = checksum(m.sql);
    if (auto it = applied.find(m.version); it != applied.end()) {
      if (it->second.second != sum) {
        throw std::runtime_error("migration " + m.name +
                                 " was changed after it was applied; add a new migration instead");
      }
      ++report.already;
      continue;
    }
    exec(c, "BEGIN").expect_ok("begin");
    Result result = exec(c, m.sql);
    if (!result.ok()) {
      std::string why = one_line(result.error_message());
      exec(c, "ROLLBACK");
      throw std::runtime_error("migration " + m.name + " failed: " + why);
    }
    exec(c, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", {m.version, m.name, sum})
        .expect_ok("record migration");
    exec(c, "COMMIT").expect_ok("commit " + m.name);
    report.applied.push_back(m.name);
  }
  exec(c, "SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
  return report;
}

}  // namespace orders::postgres
