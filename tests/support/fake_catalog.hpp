#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog_cache.hpp"
#include "catalog/event_sink.hpp"
#include "catalog/product_record.hpp"
#include "common/dependency_error.hpp"

// Fakes of the catalog's seams (catalog/product_record.hpp, catalog/catalog_cache.hpp,
// catalog/event_sink.hpp) for the service's unit tests: plain maps that record what the
// service asked, never speaking SQL, Redis or AMQP.
namespace orders::test {

class FakeProductRecord final : public catalog::ProductRecord {
 public:
  std::map<std::string, catalog::Product> products;  // the active ones
  int finds = 0;
  // Runs inside find_product before it answers (after yielding once, so other coroutines run).
  std::function<void(const std::string&)> on_find;
  std::optional<Problem> refuse_apply;                        // apply() answers this refusal instead of applying
  std::vector<std::pair<std::string, std::int64_t>> applied;  // (id, stock delta)
  int rollbacks = 0;
  std::vector<std::string> deactivated;

  boost::asio::awaitable<std::optional<catalog::Product>> find_product(const std::string& id) override {
    ++finds;
    // A real read suspends: let concurrent callers arrive while this one waits.
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    if (on_find) on_find(id);
    auto it = products.find(id);
    if (it == products.end()) co_return std::nullopt;
    co_return it->second;
  }
  boost::asio::awaitable<std::pair<std::vector<catalog::Product>, std::int64_t>> list_products(
      std::int64_t, std::int64_t, const std::optional<std::string>&) override {
    std::vector<catalog::Product> all;
    for (const auto& [id, p] : products) all.push_back(p);
    auto total = static_cast<std::int64_t>(all.size());
    co_return std::pair{std::move(all), total};
  }
  boost::asio::awaitable<Outcome<catalog::Product>> insert_product(const catalog::NewProduct& n) override {
    catalog::Product p;
    p.id = "0190c3b2-6f1e-7a2b-8c3d-" + std::to_string(100000000000 + products.size());
    p.name = n.name;
    p.price = n.price;
    p.stock = n.stock;
    p.max_per_user = n.max_per_user;
    p.sale_starts_at = n.sale_starts_at;
    p.sale_ends_at = n.sale_ends_at;
    products[p.id] = p;
    co_return p;
  }
  boost::asio::awaitable<std::unique_ptr<catalog::ProductUpdate>> begin_product_update(const std::string& id) override {
    auto it = products.find(id);
    if (it == products.end()) co_return nullptr;
    co_return std::make_unique<Update>(*this, it->second);
  }
  boost::asio::awaitable<std::optional<std::int64_t>> deactivate_product(const std::string& id) override {
    auto it = products.find(id);
    if (it == products.end()) co_return std::nullopt;
    std::int64_t version = it->second.version + 1;
    products.erase(it);
    deactivated.push_back(id);
    co_return version;
  }

 private:
  class Update final : public catalog::ProductUpdate {
   public:
    Update(FakeProductRecord& record, catalog::Product current) : record_(record), current_(std::move(current)) {}
    const catalog::Product& current() const override { return current_; }
    boost::asio::awaitable<Outcome<catalog::Product>> apply(const catalog::ProductPatch& patch,
                                                            std::int64_t delta) override {
      if (record_.refuse_apply) co_return *record_.refuse_apply;
      catalog::Product p = current_;
      if (patch.name) p.name = *patch.name;
      if (patch.price) p.price = *patch.price;
      if (patch.max_per_user.present) p.max_per_user = patch.max_per_user.value;
      p.stock += delta;
      ++p.version;
      record_.products[p.id] = p;
      record_.applied.emplace_back(p.id, delta);
      co_return p;
    }
    boost::asio::awaitable<void> rollback() override {
      ++record_.rollbacks;
      co_return;
    }

   private:
    FakeProductRecord& record_;
    catalog::Product current_;
  };
};

// The catalog's Redis as two maps and a generation per product, with cache_fill's rule: a
// fill whose generation is no longer the product's is dropped.
class FakeCatalogCache final : public catalog::CatalogCache, public catalog::LiveStock {
 public:
  bool is_connected = true;
  bool down = false;  // every operation throws DependencyUnavailable
  std::map<std::string, catalog::CachedCopy> copies;
  std::map<std::string, std::int64_t> counters;
  std::map<std::string, std::int64_t> generations;
  struct Rules {
    catalog::Product product;
    std::optional<std::int64_t> initial_stock;
  };
  std::map<std::string, Rules> rules;                         // what product_publish left
  std::vector<Rules> published;                               // every publish, in order
  std::vector<std::pair<std::string, std::int64_t>> removed;  // (id, version)
  int fills = 0;
  int stale_fills = 0;  // dropped by the generation check
  std::vector<int> fill_ttls;

  // A write as product_publish makes it: the cached copy goes, the generation moves.
  void write(const std::string& id) {
    copies.erase(id);
    ++generations[id];
  }

  bool connected() const override { return is_connected; }
  boost::asio::awaitable<catalog::CacheLookup> lookup(const std::string& id) override {
    check();
    catalog::CacheLookup found;
    found.copy = copy_of(id);
    if (auto it = counters.find(id); it != counters.end()) found.stock = it->second;
    found.generation = generation(id);
    co_return found;
  }
  // One Redis' MGET of several products: what Redis held when it was sent, answered after the
  // reply's trip back (one turn of the thread's queue, in which others may read or write).
  boost::asio::awaitable<std::vector<catalog::CacheLookup>> lookup_many(const std::vector<std::string>& ids) override {
    check();
    lookup_groups.push_back(ids);
    std::vector<catalog::CacheLookup> found;
    for (const auto& id : ids) found.push_back(co_await lookup(id));
    if (on_lookup_many) on_lookup_many(ids);
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    co_return found;
  }
  std::vector<std::vector<std::string>> lookup_groups;  // the ids of every lookup_many
  // Runs once lookup_many has read Redis, before its reply comes back.
  std::function<void(const std::vector<std::string>&)> on_lookup_many;
  boost::asio::awaitable<catalog::CachedCopy> cached_copy(const std::string& id) override {
    check();
    co_return copy_of(id);
  }
  boost::asio::awaitable<std::optional<std::string>> fill(const std::string& id, const std::string& seen_generation,
                                                          const catalog::CachedCopy& copy, int ttl_seconds) override {
    check();
    ++fills;
    fill_ttls.push_back(ttl_seconds);
    if (seen_generation != generation(id)) {
      ++stale_fills;
      co_return std::nullopt;
    }
    copies[id] = copy;
    co_return std::nullopt;
  }
  boost::asio::awaitable<void> publish_rules(const catalog::Product& p,
                                             std::optional<std::int64_t> initial_stock) override {
    check();
    published.push_back(Rules{p, initial_stock});
    rules[p.id] = Rules{p, initial_stock};
    if (initial_stock && !counters.count(p.id)) counters[p.id] = *initial_stock;
    write(p.id);
    co_return;
  }
  boost::asio::awaitable<void> remove_rules(const std::string& id, std::int64_t version) override {
    check();
    removed.emplace_back(id, version);
    rules.erase(id);
    counters.erase(id);
    write(id);
    co_return;
  }

  boost::asio::awaitable<std::optional<std::int64_t>> read(const std::string& id) override {
    check();
    auto it = counters.find(id);
    co_return it == counters.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
  }
  boost::asio::awaitable<std::vector<std::optional<std::int64_t>>> read_many(
      const std::vector<std::string>& ids) override {
    check();
    std::vector<std::optional<std::int64_t>> out;
    for (const auto& id : ids) {
      auto it = counters.find(id);
      out.push_back(it == counters.end() ? std::nullopt : std::optional<std::int64_t>(it->second));
    }
    co_return out;
  }
  boost::asio::awaitable<catalog::StockSet> set(const std::string& id, std::int64_t target) override {
    check();
    catalog::StockSet moved;
    if (auto it = counters.find(id); it != counters.end()) {
      moved = catalog::StockSet{.delta = target - it->second, .counter_existed = true};
    }
    counters[id] = target;
    co_return moved;
  }
  boost::asio::awaitable<void> add(const std::string& id, std::int64_t delta) override {
    check();
    counters[id] += delta;
    co_return;
  }

 private:
  void check() const {
    if (down) throw DependencyUnavailable("Redis", "connection refused");
  }
  catalog::CachedCopy copy_of(const std::string& id) const {
    auto it = copies.find(id);
    return it == copies.end() ? catalog::CachedCopy{} : it->second;
  }
  std::string generation(const std::string& id) const {
    auto it = generations.find(id);
    return it == generations.end() ? std::string() : std::to_string(it->second);
  }
};

class FakeEventSink final : public catalog::EventSink {
 public:
  rabbitmq::PublishOutcome outcome = rabbitmq::PublishOutcome::kConfirmed;
  std::vector<rabbitmq::Message> published;

  boost::asio::awaitable<rabbitmq::PublishOutcome> publish(rabbitmq::Message message) override {
    published.push_back(std::move(message));
    co_return outcome;
  }
};

}  // namespace orders::test
