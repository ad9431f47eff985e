#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>

#include "app/commands.hpp"
#include "common/dependency_error.hpp"
#include "storage/postgres/migrator.hpp"

namespace orders::app {

int run_migrate(const config::Dependencies& deps, const std::optional<std::filesystem::path>& dir) {
  config::PostgresEndpoint pg;
  try {
    pg = config::parse_postgres_url(deps.database_url);
  } catch (const config::ConfigError& e) {
    report_error("migrate", e.what());
    return kExitConfig;
  }
  try {
    auto migrations = dir ? postgres::load_migrations(*dir) : postgres::embedded_migrations();
    auto report = postgres::migrate(pg.conninfo, migrations);
    if (logging::format() == logging::Format::kJson) {
      boost::json::array applied;
      for (const auto& name : report.applied) applied.emplace_back(name);
      boost::json::object summary{
          {"applied", std::move(applied)}, {"alreadyUpToDate", report.already}, {"database", pg.display()}};
      std::cout << boost::json::serialize(summary) << '\n';
      return 0;
    }
    for (const auto& name : report.applied) std::cout << "applied " << name << '\n';
    std::cout << "migrations: " << report.applied.size() << " applied, " << report.already << " already up to date ("
              << pg.display() << ")\n";
    return 0;
  } catch (const DependencyUnavailable& e) {
    report_error("migrate", e.what());
    return kExitUnavailable;
  } catch (const std::exception& e) {
    report_error("migrate", e.what());
    return kExitFailure;
  }
}

}  // namespace orders::app
