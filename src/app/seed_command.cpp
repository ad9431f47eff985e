#include <libpq-fe.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "common/uuid.hpp"
#include "storage/postgres/result.hpp"

namespace orders::app {
namespace {

struct DemoCategory {
  const char* name;
  const char* slug;
  const char* description;
};

constexpr DemoCategory kCategories[] = {
    {"Electronics", "electronics", "Phones, consoles and gadgets"},
    {"Books", "books", "Signed first editions and box sets"},
    {"Home & Kitchen", "home-kitchen", "Cookware and small appliances"},
    {"Fashion", "fashion", "Sneakers and apparel drops"},
    {"Sports", "sports", "Gear and jerseys"},
    {"Tickets", "tickets", "Concert and event tickets"},
};

}  // namespace

// Loads the demo catalog; running it again changes nothing. (Categories only until the
// Catalog capability lands with products and stock counters.)
int run_seed(const config::Dependencies& deps) {
  config::PostgresEndpoint pg;
  try {
    pg = config::parse_postgres_url(deps.database_url);
  } catch (const config::ConfigError& e) {
    std::cerr << "orders seed: " << e.what() << '\n';
    return kExitConfig;
  }
  const char* keys[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {pg.conninfo.c_str(), "5", nullptr};
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keys, values, 1), &PQfinish);
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string why = conn ? PQerrorMessage(conn.get()) : "out of memory";
    while (!why.empty() && why.back() == '\n') why.pop_back();
    std::cerr << "orders seed: PostgreSQL unavailable: cannot connect to " << pg.display() << ": " << why << '\n';
    return kExitUnavailable;
  }
  int created = 0;
  for (const DemoCategory& c : kCategories) {
    std::string id = uuid::make_v7();
    const char* params[] = {id.c_str(), c.name, c.slug, c.description};
    postgres::Result r(PQexecParams(conn.get(),
                                    "INSERT INTO categories (id, name, slug, description) VALUES ($1, $2, $3, $4) "
                                    "ON CONFLICT DO NOTHING",
                                    4, nullptr, params, nullptr, nullptr, 0));
    if (!r.ok()) {
      std::cerr << "orders seed: " << r.error_message();
      return kExitFailure;
    }
    created += static_cast<int>(r.affected());
  }
  std::cout << "seed: " << created << " categories created, "
            << (std::size(kCategories) - static_cast<std::size_t>(created)) << " already present\n";
  return 0;
}

}  // namespace orders::app
