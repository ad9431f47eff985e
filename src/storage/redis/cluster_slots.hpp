#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/redis/reply.hpp"

// The server-independent part of a Redis Cluster client (no cluster client for hiredis 0.14 is
// packaged for Debian 12): which slot a key is in, which master serves a slot, and what an
// error reply asks the client to do. Nothing here does I/O.
namespace orders::redis {

inline constexpr std::uint16_t kClusterSlots = 16384;

// The slot of a key exactly as Redis' keyHashSlot (cluster.c): CRC16/XMODEM & 16383 over the
// hash tag (between the first '{' and the first '}' after it) when it is non-empty, else over
// the whole key. Keys that share a tag share a slot, which is what lets one script touch them.
std::uint16_t key_slot(std::string_view key);

struct ClusterNode {
  std::string host;
  int port = 0;

  // Ordered (host, then port) so that masters() is sorted and stable across refreshes.
  auto operator<=>(const ClusterNode&) const = default;
  bool operator==(const ClusterNode&) const = default;
  // "host:port", "[host]:port" for an IPv6 host (the form parse_redirect reads back).
  std::string to_string() const;
};

// Slot -> master, from CLUSTER SLOTS and corrected by MOVED replies until the next refresh.
class SlotMap {
 public:
  // `reply` is CLUSTER SLOTS: an array of [start, end, [host, port, id...], replicas...].
  // An empty or nil host means "the address you asked" (unknown endpoint, or a node that has
  // not learned its own IP yet): `fallback_host` stands in. Replicas are ignored: every command
  // we send goes to a master. Nothing (and the reason in `why`, when given) for an error reply
  // or a reply of the wrong shape, so a bad refresh never replaces a good map.
  static std::optional<SlotMap> from_cluster_slots(const Reply& reply, std::string_view fallback_host,
                                                   std::string* why = nullptr);

  // The master serving `slot`; nullptr for a slot no master covers (or out of range). Valid as
  // long as the map lives (move_slot never moves a node already known).
  const ClusterNode* master_for(std::uint16_t slot) const;
  // Every master that serves at least one slot, each once, sorted: the connections to keep.
  std::vector<ClusterNode> masters() const;
  // Every slot has a master (a cluster with full coverage; otherwise some keys fail).
  bool covers_all() const;
  // What a MOVED reply teaches: `slot` is now served by `node`. Out-of-range slots are ignored.
  void move_slot(std::uint16_t slot, ClusterNode node);

 private:
  static constexpr std::uint16_t kUncovered = 0xFFFF;
  std::uint16_t index_of(ClusterNode node);

  // A deque so that pointers from master_for() survive move_slot() adding a node.
  std::deque<ClusterNode> nodes_;
  std::array<std::uint16_t, kClusterSlots> slot_to_node_{};  // index into nodes_, or kUncovered
};

// A MOVED or ASK error reply: the slot and the node to ask instead. MOVED means the slot has
// moved for good (update the map); ASK means "only this command, after ASKING" (a slot being
// migrated), and leaves the map alone.
struct Redirect {
  enum class Kind { kMoved, kAsk };
  Kind kind;
  std::uint16_t slot;
  ClusterNode node;  // an empty host ("MOVED 1 :6380", unknown endpoint): the host you asked
};

// "MOVED 3999 127.0.0.1:6381", "ASK 3999 [::1]:6381" or "ASK 3999 ::1:6381" (the port is after
// the last colon). Nothing for any other text.
std::optional<Redirect> parse_redirect(std::string_view error_text);

enum class ClusterErrorKind {
  kNone,
  kMoved,
  kAsk,
  kTryAgain,
  kClusterDown,
  kLoading,
  kMasterDown,
  kNoScript,
  kCrossSlot,
  kOther
};

// By the first word of an error reply's text; kNone for an empty text (no error), kOther for
// any error the cluster layer has no special handling for.
ClusterErrorKind classify_cluster_error(std::string_view error_text);

// Errors that go away by themselves (a failover, a resharding step, a node loading its data):
// retry within the request's deadline, with backoff.
bool is_retryable(ClusterErrorKind kind);

}  // namespace orders::redis
