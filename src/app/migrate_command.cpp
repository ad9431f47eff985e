#include <spdlog/spdlog.h>

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
    std::cerr << "orders migrate: " << e.what() << '\n';
    return kExitConfig;
  }
  try {
    auto migrations = dir ? postgres::load_migrations(*dir) : postgres::embedded_migrations();
    auto report = postgres::migrate(pg.conninfo, migrations);
    for (const auto& name : report.applied) std::cout << "applied " << name << '\n';
    std::cout << "migrations: " << report.applied.size() << " applied, " << report.already << " already up to date ("
              << pg.display() << ")\n";
    return 0;
  } catch (const DependencyUnavailable& e) {
    std::cerr << "orders migrate: " << e.what() << '\n';
    return kExitUnavailable;
  } catch (const std::exception& e) {
    std::cerr << "orders migrate: " << e.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace orders::app
