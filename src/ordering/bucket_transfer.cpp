#include "ordering/bucket_transfer.hpp"

#include <algorithm>
#include <stdexcept>

#include "catalog/keys.hpp"
#include "catalog/stock_buckets.hpp"

namespace orders::ordering::buckets {
namespace asio = boost::asio;
using namespace catalog::buckets;
using redis::Reply;

namespace {

// Transfer records outlive any caller that could still replay one (a recovery runs within
// seconds of a lease).
constexpr long long kTransferTtlSeconds = 24 * 3600;

asio::awaitable<Reply> run(redis::Commands& redis, std::string_view name, const std::vector<std::string>& keys,
                           const std::vector<std::string>& args) {
  std::vector<std::string_view> k(keys.begin(), keys.end());
  std::vector<std::string_view> a(args.begin(), args.end());
  Reply reply = co_await redis.eval(redis::script(name), k, a);
  if (reply.is_error()) throw std::runtime_error(std::string(name) + " failed: " + reply.str);
  co_return reply;
}

asio::awaitable<long long> receive(redis::Commands& redis, const std::string& product, int target, long long units,
                                   const std::string& id) {
  const std::string bucket = catalog::keys::bucket(product, target);
  const std::vector<std::string> keys{catalog::keys::stock(bucket), transfer_received(bucket, id)};
  const std::vector<std::string> args{std::to_string(units), std::to_string(kTransferTtlSeconds)};
  Reply received = co_await run(redis, "bucket_receive", keys, args);
  co_return received.integer == 1 ? units : 0;
}

}  // namespace

asio::awaitable<std::vector<long long>> read_counters(redis::Commands& redis, const std::string& product, int buckets) {
  std::vector<std::string> keys;
  for (int b = 0; b < buckets; ++b) keys.push_back(catalog::keys::stock(catalog::keys::bucket(product, b)));
  std::vector<std::string_view> mget{"MGET"};
  for (const auto& k : keys) mget.push_back(k);
  Reply reply = co_await redis.command(mget);
  if (reply.is_error()) throw std::runtime_error("MGET of bucket counters failed: " + reply.str);
  std::vector<long long> left(buckets, 0);
  for (int b = 0; b < buckets && b < static_cast<int>(reply.elements.size()); ++b) {
    const Reply& r = reply.elements[b];
    if (r.type == Reply::Type::kString && !r.str.empty()) left[b] = std::stoll(r.str);
  }
  co_return left;
}

std::string give_id(const std::string& transfer_id, int source) { return transfer_id + "." + std::to_string(source); }

asio::awaitable<long long> refill_home(redis::Commands& redis, const std::string& product, int buckets, int home,
                                       long long needed, const std::string& transfer_id) {
  std::vector<long long> left = co_await read_counters(redis, product, buckets);
  long long total = 0;
  for (long long n : left) total += n;
  // Up to an even share when that is more, so the home's next buyers find units too.
  const long long level = std::max(needed, total / buckets);
  long long arrived = 0;
  // (Named: GCC 12 mishandles the temporaries of a range-for's initializer in a coroutine.)
  const std::vector<Give> gives = plan_gives(level - left[home], home, left);
  for (const Give& give : gives) {
    const std::string id = give_id(transfer_id, give.bucket);
    const std::string source = catalog::keys::bucket(product, give.bucket);
    const std::vector<std::string> keys{catalog::keys::stock(source), transfer_record(source, id)};
    const std::vector<std::string> args{std::to_string(give.units), std::to_string(kTransferTtlSeconds)};
    // Another buyer may have taken from the source since the read: the give takes what is there.
    Reply given = co_await run(redis, "bucket_give", keys, args);
    if (given.integer > 0) arrived += co_await receive(redis, product, home, given.integer, id);
  }
  co_return arrived;
}

asio::awaitable<long long> settle_transfer(redis::Commands& redis, const std::string& product, int source, int target,
                                           const std::string& transfer_id) {
  const std::string id = give_id(transfer_id, source);
  const std::string from = catalog::keys::bucket(product, source);
  const std::vector<std::string> keys{transfer_record(from, id)};
  const std::vector<std::string> args{std::to_string(kTransferTtlSeconds)};
  Reply voided = co_await run(redis, "bucket_void", keys, args);
  if (voided.integer <= 0) co_return 0;
  co_return co_await receive(redis, product, target, voided.integer, id);
}

}  // namespace orders::ordering::buckets
