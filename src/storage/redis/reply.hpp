#pragma once

#include <string>
#include <string_view>
#include <vector>

struct redisReply;

namespace orders::redis {

// An owned copy of a hiredis reply (hiredis frees its own right after the callback).
struct Reply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  long long integer = 0;
  std::string str;  // string, status or error text
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::kError; }
  static Reply from(const redisReply* r);
};

// A Lua script run by EVALSHA; loaded on first use and again after NOSCRIPT (a restarted or
// flushed Redis forgets scripts).
struct Script {
  std::string name;
  std::string source;
};

// The script embedded as lua/<name>.lua (src/*/lua/ at build time), made once per process and
// kept: the one way every caller holds a script. Throws std::logic_error when there is none
// (a build mistake).
const Script& script(std::string_view name);

}  // namespace orders::redis
