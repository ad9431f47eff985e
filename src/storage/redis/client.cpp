#include "storage/redis/client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>

#include "common/dependency_error.hpp"

namespace orders::redis {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Maps hiredis's event hooks onto Asio waits on a dup of the context's socket. hiredis asks
// to start/stop reading and writing; each armed wait calls back into hiredis when ready.
struct Client::Watcher : std::enable_shared_from_this<Client::Watcher> {
  Watcher(asio::any_io_executor ex, redisAsyncContext* c) : ctx(c), socket(ex, ::dup(c->c.fd)) {}

  redisAsyncContext* ctx;
  asio::posix::stream_descriptor socket;
  bool want_read = false, want_write = false;
  bool read_armed = false, write_armed = false;
  bool dead = false;  // hiredis called cleanup: the context is gone

  void arm_read() {
    if (read_armed || dead) return;
    read_armed = true;
    socket.async_wait(asio::posix::descriptor_base::wait_read, [self = shared_from_this()](auto ec) {
      self->read_armed = false;
      if (ec || self->dead || !self->want_read) return;
      redisAsyncHandleRead(self->ctx);  // may free the context (then dead is set)
      if (self->want_read) self->arm_read();
    });
  }
  void arm_write() {
    if (write_armed || dead) return;
    write_armed = true;
    socket.async_wait(asio::posix::descriptor_base::wait_write, [self = shared_from_this()](auto ec) {
      self->write_armed = false;
      if (ec || self->dead || !self->want_write) return;
      redisAsyncHandleWrite(self->ctx);
      if (self->want_write) self->arm_write();
    });
  }

  static Watcher* of(void* p) { return static_cast<Watcher*>(p); }
  static void add_read(void* p) {
    of(p)->want_read = true;
    of(p)->arm_read();
  }
  static void del_read(void* p) { of(p)->want_read = false; }
  static void add_write(void* p) {
    of(p)->want_write = true;
    of(p)->arm_write();
  }
  static void del_write(void* p) { of(p)->want_write = false; }
  static void cleanup(void* p) {
    Watcher* w = of(p);
    w->dead = true;
    w->want_read = w->want_write = false;
    boost::system::error_code ignored;
    w->socket.close(ignored);
  }
};

Client::Client(asio::any_io_executor executor, config::RedisEndpoint endpoint, ClientOptions options)
    : executor_(executor),
      endpoint_(std::move(endpoint)),
      options_(options),
      backoff_(options.min_backoff, options.max_backoff),
      reconnect_timer_(executor),
      connect_timer_(executor),
      watchdog_(executor) {}

Client::~Client() {
  *alive_ = false;
  stop();
}

void Client::start() {
  if (state_ != State::kStopped) return;
  open();
  arm_watchdog();
}

void Client::stop() {
  state_ = State::kStopped;
  reconnect_timer_.cancel();
  connect_timer_.cancel();
  watchdog_.cancel();
  if (ctx_) {
    redisAsyncContext* c = ctx_;
    ctx_ = nullptr;
    redisAsyncFree(c);  // fails every pending command
  }
}

void Client::open() {
  state_ = State::kConnecting;
  redisAsyncContext* c = redisAsyncConnect(endpoint_.host.c_str(), endpoint_.port);
  if (!c || c->err) {
    std::string reason = c ? c->errstr : "out of memory";
    if (c) redisAsyncFree(c);
    schedule_reconnect(reason);
    return;
  }
  ctx_ = c;
  c->data = this;
  watcher_ = std::make_shared<Watcher>(executor_, c);
  c->ev.data = watcher_.get();
  c->ev.addRead = &Watcher::add_read;
  c->ev.delRead = &Watcher::del_read;
  c->ev.addWrite = &Watcher::add_write;
  c->ev.delWrite = &Watcher::del_write;
  c->ev.cleanup = &Watcher::cleanup;
  redisAsyncSetConnectCallback(c, &Client::on_connect);
  redisAsyncSetDisconnectCallback(c, &Client::on_disconnect);
  // hiredis does not write until connected, so it is fine to queue set-up commands now.
  // The connect callback may have run (and failed) already.
  if (ctx_ && (!endpoint_.password.empty())) {
    std::vector<std::string_view> auth{"AUTH"};
    if (!endpoint_.username.empty()) auth.push_back(endpoint_.username);
    auth.push_back(endpoint_.password);
    send(auth, nullptr);
  }
  if (ctx_ && endpoint_.db != 0) {
    std::string db = std::to_string(endpoint_.db);
    std::string_view select[] = {"SELECT", db};
    send(select, nullptr);
  }
  if (!ctx_) return;
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([this, alive = alive_, c](auto ec) {
    if (ec || !*alive || ctx_ != c || state_ != State::kConnecting) return;
    drop_connection("connect timed out");
  });
}

void Client::drop_connection(const std::string& reason) {
  if (ctx_) {
    redisAsyncContext* c = ctx_;
    ctx_ = nullptr;  // on_disconnect sees it is ours and leaves the rescheduling to us
    redisAsyncFree(c);
  }
  schedule_reconnect(reason);
}

void Client::schedule_reconnect(const std::string& reason) {
  if (state_ == State::kStopped) return;
  if (state_ == State::kConnected || last_error_ != reason) {
    spdlog::warn("Redis {} unavailable: {}; reconnecting", endpoint_.display(), reason);
  }
  last_error_ = reason;
  state_ = State::kWaitingToRetry;
  connect_timer_.cancel();
  reconnect_timer_.expires_after(backoff_.next());
  reconnect_timer_.async_wait([this, alive = alive_](auto ec) {
    if (ec || !*alive || state_ != State::kWaitingToRetry) return;
    open();
  });
}

void Client::on_connect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<Client*>(ctx->data);
  if (self->ctx_ != ctx) return;
  if (status != REDIS_OK) {
    std::string reason = ctx->errstr;
    self->ctx_ = nullptr;  // hiredis frees the context after this callback
    self->schedule_reconnect(reason);
    return;
  }
  self->connect_timer_.cancel();
  self->state_ = State::kConnected;
  self->backoff_.reset();
  spdlog::info("Redis {} connected", self->endpoint_.display());
}

void Client::on_disconnect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<Client*>(ctx->data);
  if (self->ctx_ != ctx) return;  // we dropped it ourselves
  self->ctx_ = nullptr;           // hiredis frees the context after this callback
  self->schedule_reconnect(status == REDIS_OK ? "connection closed" : ctx->errstr);
}

void Client::on_reply(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* self = static_cast<Client*>(ctx->data);
  if (!self->in_flight_.empty()) self->in_flight_.pop_front();
  std::unique_ptr<PendingOp> op(static_cast<PendingOp*>(privdata));
  auto* r = static_cast<redisReply*>(reply);
  if (op) op->complete(r, r ? std::string() : (ctx->err ? std::string(ctx->errstr) : "connection lost"));
}

void Client::send(std::span<const std::string_view> args, std::unique_ptr<PendingOp> op, Clock::time_point now) {
  // The command in RESP, formatted here into one reused buffer and handed to hiredis as it is
  // (redisAsyncFormattedCommand): hiredis' own argv formatter (sdscatfmt, an sds per command)
  // was ~5% of the API's CPU per sold-out answer. `*N`, then `$LEN` and the bytes of each argument.
  std::string& wire = format_buffer_;
  wire.clear();
  char digits[24];
  auto number = [&](char lead, std::size_t n) {
    wire += lead;
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    wire.append(digits, end);
    wire += "\r\n";
  };
  number('*', args.size());
  for (std::string_view a : args) {
    number('$', a.size());
    wire += a;
    wire += "\r\n";
  }
  if (!ctx_ || redisAsyncFormattedCommand(ctx_, &Client::on_reply, op.get(), wire.data(), wire.size()) != REDIS_OK) {
    if (op) op->complete(nullptr, "not connected: " + last_error_);
    return;
  }
  op.release();  // owned by hiredis until on_reply
  in_flight_.push_back(now == Clock::time_point{} ? Clock::now() : now);
}

// A server that stops answering (paused, partitioned) would leave commands waiting forever;
// the watchdog drops the connection when the oldest reply is overdue.
void Client::arm_watchdog() {
  watchdog_.expires_after(std::chrono::milliseconds(250));
  watchdog_.async_wait([this, alive = alive_](auto ec) {
    if (ec || !*alive || state_ == State::kStopped) return;
    if (ctx_ && !in_flight_.empty() && Clock::now() - in_flight_.front() > options_.command_timeout) {
      in_flight_.clear();
      drop_connection("no reply within " + std::to_string(options_.command_timeout.count()) + " ms");
    }
    arm_watchdog();
  });
}

namespace {

template <typename Handler>
struct Op : Client::PendingOp {
  explicit Op(Handler h, asio::any_io_executor ex) : handler(std::move(h)), executor(std::move(ex)) {}
  void complete(const redisReply* reply, const std::string& error) override {
    std::exception_ptr failure;
    if (!reply) failure = std::make_exception_ptr(DependencyUnavailable("Redis", error));
    // Resume the caller from the executor, not from inside hiredis's read loop.
    asio::post(executor, [h = std::move(handler), failure, r = Reply::from(reply)]() mutable {
      std::move(h)(failure, std::move(r));
    });
  }
  Handler handler;
  asio::any_io_executor executor;
};

}  // namespace

asio::awaitable<Reply> Client::command(std::span<const std::string_view> args) { return run(args, false); }

asio::awaitable<Reply> Client::command_after_asking(std::span<const std::string_view> args) { return run(args, true); }

asio::awaitable<Reply> Client::eval(const Script& script, std::span<const std::string_view> keys,
                                    std::span<const std::string_view> args) {
  return run_script(script, keys, args, false);
}

asio::awaitable<Reply> Client::eval_after_asking(const Script& script, std::span<const std::string_view> keys,
                                                 std::span<const std::string_view> args) {
  return run_script(script, keys, args, true);
}

asio::awaitable<Reply> Client::run(std::span<const std::string_view> args, bool asking) {
  if (state_ != State::kConnected) throw NotSent(endpoint_.display() + ": " + last_error_);
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, Reply)>(
      [this, args, asking](auto handler) {
        using H = decltype(handler);
        if (asking) {
          // Its reply (+OK) is read and dropped by hiredis: no callback.
          static constexpr std::string_view kAsking[] = {"ASKING"};
          send(kAsking, nullptr);
        }
        send(args, std::make_unique<Op<H>>(std::move(handler), executor_));
      },
      asio::use_awaitable);
}

asio::awaitable<Reply> Client::transaction(std::span<const std::vector<std::string_view>> commands) {
  if (state_ != State::kConnected) throw NotSent(endpoint_.display() + ": " + last_error_);
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, Reply)>(
      [this, commands](auto handler) {
        using H = decltype(handler);
        // Written in one go on this executor: nothing else is sent in between. The replies of
        // MULTI and of each queued command (+OK, +QUEUED) are read and dropped by hiredis.
        static constexpr std::string_view kMulti[] = {"MULTI"};
        static constexpr std::string_view kExec[] = {"EXEC"};
        const auto now = Clock::now();  // one clock reading for the replies of one write
        send(kMulti, nullptr, now);
        for (const auto& c : commands) send(c, nullptr, now);
        send(kExec, std::make_unique<Op<H>>(std::move(handler), executor_), now);
      },
      asio::use_awaitable);
}

asio::awaitable<Reply> Client::run_script(const Script& script, std::span<const std::string_view> keys,
                                          std::span<const std::string_view> args, bool asking) {
  std::string& sha = script_shas_[script.name];
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (sha.empty()) {
      std::string_view load[] = {"SCRIPT", "LOAD", script.source};
      Reply loaded = co_await run(load, false);
      if (loaded.type != Reply::Type::kString) {
        throw std::runtime_error("SCRIPT LOAD " + script.name + " failed: " + loaded.str);
      }
      sha = loaded.str;
    }
    std::string numkeys = std::to_string(keys.size());
    std::vector<std::string_view> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.push_back("EVALSHA");
    argv.push_back(sha);
    argv.push_back(numkeys);
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    Reply reply = co_await run(argv, asking);
    if (reply.is_error() && reply.str.starts_with("NOSCRIPT")) {
      sha.clear();
      continue;
    }
    co_return reply;
  }
  throw std::runtime_error("script " + script.name + " could not be loaded");
}

}  // namespace orders::redis
