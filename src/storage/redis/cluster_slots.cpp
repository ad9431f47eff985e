#include "storage/redis/cluster_slots.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

namespace orders::redis {
namespace {

// CRC16/XMODEM (poly 0x1021, init 0, no reflection, no final xor), the CRC Redis Cluster
// uses; table-driven like Redis' crc16.c since it runs for every command sent.
constexpr std::array<std::uint16_t, 256> kCrc16Table = [] {
  std::array<std::uint16_t, 256> table{};
  for (unsigned byte = 0; byte < 256; ++byte) {
    auto crc = static_cast<std::uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}();

std::uint16_t crc16(std::string_view bytes) {
  std::uint16_t crc = 0;
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ byte) & 0xFF]);
  }
  return crc;
}

// A whole non-negative decimal number in [0, max]; nothing for anything else ("+1", "1x", "").
std::optional<long long> parse_number(std::string_view text, long long max) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 0 || value > max) return std::nullopt;
  return value;
}

bool valid_slot(const Reply& r) {
  return r.type == Reply::Type::kInteger && r.integer >= 0 && r.integer < kClusterSlots;
}

// [host, port, id, ...] of CLUSTER SLOTS; Redis before 3.2 sent no id, Redis 7 may add a map
// of hostnames after it, so only the first two are read.
std::optional<ClusterNode> node_of(const Reply& r, std::string_view fallback_host) {
  if (r.type != Reply::Type::kArray || r.elements.size() < 2) return std::nullopt;
  const Reply& host = r.elements[0];
  const Reply& port = r.elements[1];
  if (host.type != Reply::Type::kString && host.type != Reply::Type::kNil) return std::nullopt;
  if (port.type != Reply::Type::kInteger || port.integer < 1 || port.integer > 65535) return std::nullopt;
  ClusterNode node{host.str.empty() ? std::string(fallback_host) : host.str, static_cast<int>(port.integer)};
  return node;
}

}  // namespace

std::uint16_t key_slot(std::string_view key) {
  // The tag rule of keyHashSlot: the first '{', the first '}' after it, and only a non-empty
  // part between them; "foo{}{bar}" hashes the whole key, "foo{{bar}}" hashes "{bar".
  const auto open = key.find('{');
  if (open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<std::uint16_t>(crc16(key) & (kClusterSlots - 1));
}

std::string ClusterNode::to_string() const {
  const std::string port_text = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

std::optional<SlotMap> SlotMap::from_cluster_slots(const Reply& reply, std::string_view fallback_host,
                                                   std::string* why) {
  auto fail = [why](std::string reason) -> std::optional<SlotMap> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  if (reply.is_error()) return fail("CLUSTER SLOTS failed: " + reply.str);
  if (reply.type != Reply::Type::kArray) return fail("CLUSTER SLOTS did not answer an array");

  SlotMap map;
  map.slot_to_node_.fill(kUncovered);
  for (std::size_t i = 0; i < reply.elements.size(); ++i) {
    const Reply& range = reply.elements[i];
    const std::string where = "CLUSTER SLOTS entry " + std::to_string(i);
    if (range.type != Reply::Type::kArray || range.elements.size() < 3) {
      return fail(where + " is not [start, end, master, replicas...]");
    }
    const Reply& start = range.elements[0];
    const Reply& end = range.elements[1];
    if (!valid_slot(start) || !valid_slot(end) || start.integer > end.integer) {
      return fail(where + " has no valid slot range");
    }
    auto master = node_of(range.elements[2], fallback_host);
    if (!master) return fail(where + " has no valid master [host, port, ...]");
    const std::uint16_t index = map.index_of(std::move(*master));
    // Ranges of one reply never overlap; were they to, the later one wins, as a MOVED would.
    std::fill(map.slot_to_node_.begin() + start.integer, map.slot_to_node_.begin() + end.integer + 1, index);
  }
  return map;
}

std::uint16_t SlotMap::index_of(ClusterNode node) {
  auto it = std::find(nodes_.begin(), nodes_.end(), node);
  if (it != nodes_.end()) return static_cast<std::uint16_t>(it - nodes_.begin());
  // At most one node per slot is ever added, so the index stays below kUncovered.
  nodes_.push_back(std::move(node));
  return static_cast<std::uint16_t>(nodes_.size() - 1);
}

const ClusterNode* SlotMap::master_for(std::uint16_t slot) const {
  if (slot >= kClusterSlots) return nullptr;
  const std::uint16_t index = slot_to_node_[slot];
  return index == kUncovered ? nullptr : &nodes_[index];
}

std::vector<ClusterNode> SlotMap::masters() const {
  // Only nodes that still serve a slot: a MOVED may have taken a node's last one.
  std::vector<bool> serves(nodes_.size(), false);
  for (std::uint16_t index : slot_to_node_) {
    if (index != kUncovered) serves[index] = true;
  }
  std::vector<ClusterNode> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (serves[i]) out.push_back(nodes_[i]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool SlotMap::covers_all() const {
  return std::find(slot_to_node_.begin(), slot_to_node_.end(), kUncovered) == slot_to_node_.end();
}

void SlotMap::move_slot(std::uint16_t slot, ClusterNode node) {
  if (slot >= kClusterSlots) return;
  slot_to_node_[slot] = index_of(std::move(node));
}

std::optional<Redirect> parse_redirect(std::string_view error_text) {
  // "<MOVED|ASK> <slot> <host>:<port>", single spaces, nothing after.
  const auto first_space = error_text.find(' ');
  if (first_space == std::string_view::npos) return std::nullopt;
  const std::string_view word = error_text.substr(0, first_space);
  Redirect::Kind kind;
  if (word == "MOVED") kind = Redirect::Kind::kMoved;
  else if (word == "ASK") kind = Redirect::Kind::kAsk;
  else return std::nullopt;

  const std::string_view rest = error_text.substr(first_space + 1);
  const auto second_space = rest.find(' ');
  if (second_space == std::string_view::npos) return std::nullopt;
  const auto slot = parse_number(rest.substr(0, second_space), kClusterSlots - 1);
  if (!slot) return std::nullopt;

  // The port is after the last colon, so an IPv6 address may come bare ("::1:6381").
  const std::string_view address = rest.substr(second_space + 1);
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto port = parse_number(address.substr(colon + 1), 65535);
  if (!port || *port == 0) return std::nullopt;
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.find_first_of(" []") != std::string_view::npos) return std::nullopt;

  return Redirect{kind, static_cast<std::uint16_t>(*slot), ClusterNode{std::string(host), static_cast<int>(*port)}};
}

ClusterErrorKind classify_cluster_error(std::string_view error_text) {
  if (error_text.empty()) return ClusterErrorKind::kNone;
  const std::string_view word = error_text.substr(0, error_text.find(' '));
  if (word == "MOVED") return ClusterErrorKind::kMoved;
  if (word == "ASK") return ClusterErrorKind::kAsk;
  if (word == "TRYAGAIN") return ClusterErrorKind::kTryAgain;
  if (word == "CLUSTERDOWN") return ClusterErrorKind::kClusterDown;
  if (word == "LOADING") return ClusterErrorKind::kLoading;
  if (word == "MASTERDOWN") return ClusterErrorKind::kMasterDown;
  if (word == "NOSCRIPT") return ClusterErrorKind::kNoScript;
  if (word == "CROSSSLOT") return ClusterErrorKind::kCrossSlot;
  return ClusterErrorKind::kOther;
}

bool is_retryable(ClusterErrorKind kind) {
  switch (kind) {
    case ClusterErrorKind::kTryAgain:
    case ClusterErrorKind::kClusterDown:
    case ClusterErrorKind::kLoading:
    case ClusterErrorKind::kMasterDown: return true;
    case ClusterErrorKind::kNone:
    case ClusterErrorKind::kMoved:
    case ClusterErrorKind::kAsk:
    case ClusterErrorKind::kNoScript:
    case ClusterErrorKind::kCrossSlot:
    case ClusterErrorKind::kOther: return false;
  }
  return false;
}

}  // namespace orders::redis
