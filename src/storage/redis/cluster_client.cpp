#include "storage/redis/cluster_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace orders::redis {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

ClusterClient::ClusterClient(asio::any_io_executor executor, std::vector<ClusterNode> seeds,
                             config::RedisEndpoint credentials, ClusterOptions options)
    : executor_(executor),
      seeds_(std::move(seeds)),
      credentials_(std::move(credentials)),
      options_(options),
      refresh_timer_(executor),
      deferred_timer_(executor) {}

ClusterClient::~ClusterClient() {
  *alive_ = false;
  stop();
}

void ClusterClient::start() {
  if (!stopped_) return;
  stopped_ = false;
  started_at_ = Clock::now();
  for (const ClusterNode& seed : seeds_) client_for(seed);
  request_refresh();
  arm_refresh_timer();
}

void ClusterClient::stop() {
  stopped_ = true;
  refresh_timer_.cancel();
  deferred_timer_.cancel();
  for (auto& [node, client] : clients_) client->stop();
}

std::vector<std::string> ClusterClient::masters() const {
  std::vector<std::string> out;
  if (map_) {
    for (const ClusterNode& n : map_->masters()) out.push_back(n.to_string());
  }
  return out;
}

Client& ClusterClient::client_for(const ClusterNode& node) {
  auto it = clients_.find(node);
  if (it == clients_.end()) {
    config::RedisEndpoint endpoint = credentials_;
    endpoint.host = node.host;
    endpoint.port = static_cast<std::uint16_t>(node.port);
    endpoint.db = 0;
    it = clients_.emplace(node, std::make_unique<Client>(executor_, endpoint, options_.node)).first;
    if (!stopped_) it->second->start();
  }
  return *it->second;
}

Client* ClusterClient::any_connected() {
  if (map_) {
    for (const ClusterNode& n : map_->masters()) {
      Client& c = client_for(n);
      if (c.connected()) return &c;
    }
  }
  for (auto& [node, client] : clients_) {
    if (client->connected()) return client.get();
  }
  return nullptr;
}

void ClusterClient::arm_refresh_timer() {
  // Until the first map, every 20 ms (the seeds are still connecting, and callers that check
  // connected() refuse meanwhile); then every refresh_interval, which also notices a failover
  // no command has run into yet.
  refresh_timer_.expires_after(map_ ? options_.refresh_interval : std::chrono::milliseconds(20));
  refresh_timer_.async_wait([this, alive = alive_](auto ec) {
    if (ec || !*alive || stopped_) return;
    request_refresh();
    arm_refresh_timer();
  });
}

void ClusterClient::request_refresh() {
  if (refreshing_ || stopped_) return;
  if (map_ && Clock::now() - last_refresh_ < options_.min_refresh) {
    // Too soon after the last one: deferred, not dropped (a MOVED right after a refresh must
    // still be learnt before the periodic round).
    if (deferred_) return;
    deferred_ = true;
    deferred_timer_.expires_at(last_refresh_ + options_.min_refresh);
    deferred_timer_.async_wait([this, alive = alive_](auto ec) {
      if (!*alive) return;
      deferred_ = false;
      if (!ec) request_refresh();
    });
    return;
  }
  refreshing_ = true;
  asio::co_spawn(executor_, refresh(), asio::detached);
}

asio::awaitable<void> ClusterClient::refresh() {
  auto alive = alive_;
  struct Done {
    ClusterClient* self;
    std::shared_ptr<bool> alive;
    ~Done() {
      if (*alive) self->refreshing_ = false;
    }
  } done{this, alive};
  Client* from = any_connected();
  if (!from) co_return;
  const std::string host = from->endpoint().host;
  Reply reply;
  try {
    static constexpr std::string_view kSlots[] = {"CLUSTER", "SLOTS"};
    reply = co_await from->command(kSlots);
  } catch (const DependencyUnavailable& e) {
    if (*alive) spdlog::warn("Redis Cluster: CLUSTER SLOTS from {} failed: {}", from->endpoint().display(), e.what());
    co_return;
  }
  if (!*alive || stopped_) co_return;
  std::string why;
  std::optional<SlotMap> map = SlotMap::from_cluster_slots(reply, host, &why);
  if (!map) {
    spdlog::warn("Redis Cluster: unusable CLUSTER SLOTS from {}: {}", from->endpoint().display(), why);
    co_return;
  }
  const bool first = !map_;
  const std::vector<ClusterNode> before = map_ ? map_->masters() : std::vector<ClusterNode>{};
  map_ = std::move(map);
  last_refresh_ = Clock::now();
  ++refreshes_;
  const std::vector<ClusterNode> now = map_->masters();
  for (const ClusterNode& n : now) client_for(n);  // connect to new masters ahead of their first command
  if (first || before != now) {
    std::string list;
    for (const ClusterNode& n : now) list += (list.empty() ? "" : ", ") + n.to_string();
    spdlog::info("Redis Cluster: {} masters ({}){}", now.size(), list,
                 map_->covers_all() ? "" : "; some slots have no master");
  }
}

asio::awaitable<Reply> ClusterClient::send_to(Client& node, const Call& call, bool asking) {
  // (One co_await per statement: GCC 12 mishandles co_await inside ?:.)
  Reply reply;
  if (call.script && asking) {
    reply = co_await node.eval_after_asking(*call.script, call.keys, call.args);
  } else if (call.script) {
    reply = co_await node.eval(*call.script, call.keys, call.args);
  } else if (asking) {
    reply = co_await node.command_after_asking(call.args);
  } else {
    reply = co_await node.command(call.args);
  }
  co_return reply;
}

asio::awaitable<Reply> ClusterClient::execute(Call call, std::optional<std::uint16_t> slot) {
  const auto deadline = Clock::now() + options_.deadline;
  asio::steady_timer pause(executor_);
  Backoff backoff(std::chrono::milliseconds(10), std::chrono::milliseconds(200));
  std::optional<ClusterNode> ask;  // the node an ASK named: the next attempt goes there, once
  std::string last = "no slot map yet";
  for (;;) {
    Client* node = nullptr;
    if (ask) {
      node = &client_for(*ask);
    } else if (map_) {
      const ClusterNode* master = slot ? map_->master_for(*slot) : nullptr;
      if (master) node = &client_for(*master);
      else if (!slot) node = any_connected();
      else last = "slot " + std::to_string(*slot) + " has no master";
    }
    if (node && node->connected()) {
      const bool asking = ask.has_value();
      ask.reset();
      // Sent: from here a lost connection is the caller's to resolve (it may have run).
      Reply reply;
      try {
        reply = co_await send_to(*node, call, asking);
      } catch (const NotSent& e) {
        last = e.what();  // the connection went down between the check and the send
        reply.type = Reply::Type::kNil;
        node = nullptr;
      } catch (const DependencyUnavailable&) {
        request_refresh();
        throw;
      }
      if (node) {
        if (!reply.is_error()) co_return reply;
        const ClusterErrorKind kind = classify_cluster_error(reply.str);
        if (kind == ClusterErrorKind::kMoved || kind == ClusterErrorKind::kAsk) {
          if (auto redirect = parse_redirect(reply.str)) {
            ClusterNode target = redirect->node;
            if (target.host.empty()) target.host = node->endpoint().host;
            if (kind == ClusterErrorKind::kMoved) {
              if (map_) map_->move_slot(redirect->slot, target);
              request_refresh();
            } else {
              ask = target;
            }
            last = reply.str;
            if (Clock::now() < deadline) continue;  // at once: the map already says where
          }
          co_return reply;
        }
        if (!is_retryable(kind)) co_return reply;  // the command's own error, or NOSCRIPT twice
        last = reply.str;
        if (kind == ClusterErrorKind::kClusterDown || kind == ClusterErrorKind::kMasterDown) request_refresh();
      }
    } else {
      if (node) last = node->endpoint().display() + " not connected";
      request_refresh();
    }
    const auto wait = backoff.next();
    if (Clock::now() + wait >= deadline) {
      throw NotSent("no node could take the command within " + std::to_string(options_.deadline.count()) + " ms (" +
                    last + ")");
    }
    pause.expires_after(wait);
    co_await pause.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<Reply> ClusterClient::command(std::span<const std::string_view> args) {
  std::optional<std::uint16_t> slot;
  if (args.size() >= 2) slot = key_slot(args[1]);
  // MGET over keys of several slots (a product list's counters): one MGET per slot, the values
  // put back in the order asked, as one Redis would answer it.
  if (args.size() > 2 && (args[0] == "MGET" || args[0] == "mget")) {
    std::vector<std::uint16_t> slots;
    for (std::size_t i = 1; i < args.size(); ++i) slots.push_back(key_slot(args[i]));
    if (std::any_of(slots.begin(), slots.end(), [&](std::uint16_t s) { return s != slots[0]; })) {
      Reply out;
      out.type = Reply::Type::kArray;
      out.elements.resize(args.size() - 1);
      std::vector<bool> done(args.size() - 1, false);
      for (std::size_t i = 0; i < slots.size(); ++i) {
        if (done[i]) continue;
        std::vector<std::string_view> part{"MGET"};
        std::vector<std::size_t> positions;
        for (std::size_t j = i; j < slots.size(); ++j) {
          if (!done[j] && slots[j] == slots[i]) {
            part.push_back(args[j + 1]);
            positions.push_back(j);
            done[j] = true;
          }
        }
        Reply got = co_await execute(Call{part, nullptr, {}}, slots[i]);
        if (got.is_error() || got.elements.size() != positions.size()) co_return got;
        for (std::size_t k = 0; k < positions.size(); ++k) out.elements[positions[k]] = std::move(got.elements[k]);
      }
      co_return out;
    }
  }
  co_return co_await execute(Call{args, nullptr, {}}, slot);
}

asio::awaitable<Reply> ClusterClient::transaction(std::span<const std::vector<std::string_view>> commands) {
  if (commands.empty() || commands.front().size() < 2) throw std::logic_error("a transaction needs a keyed command");
  const std::uint16_t slot = key_slot(commands.front()[1]);
  const ClusterNode* master = map_ ? map_->master_for(slot) : nullptr;
  if (!master) {
    request_refresh();
    throw NotSent("slot " + std::to_string(slot) + " has no master");
  }
  Client& node = client_for(*master);
  if (!node.connected()) {
    request_refresh();
    throw NotSent(node.endpoint().display() + " not connected");
  }
  // No redirections followed: a slot that moved makes EXEC an error (EXECABORT, or MOVED in
  // an element), which the caller treats as any refused reading; the map is refreshed for the next.
  Reply reply = co_await node.transaction(commands);
  if (reply.is_error() ||
      std::any_of(reply.elements.begin(), reply.elements.end(), [](const Reply& e) { return e.is_error(); })) {
    request_refresh();
  }
  co_return reply;
}

asio::awaitable<Reply> ClusterClient::eval(const Script& script, std::span<const std::string_view> keys,
                                           std::span<const std::string_view> args) {
  std::optional<std::uint16_t> slot;
  if (!keys.empty()) {
    slot = key_slot(keys[0]);
    for (std::string_view k : keys) {
      if (key_slot(k) != *slot) {
        // A key design mistake of ours, never a user's: Redis would answer CROSSSLOT.
        throw std::logic_error("script " + script.name + ": keys " + std::string(keys[0]) + " and " + std::string(k) +
                               " are in different slots");
      }
    }
  }
  co_return co_await execute(Call{args, &script, keys}, slot);
}

}  // namespace orders::redis
