#include "storage/redis/reply.hpp"

#include <hiredis/hiredis.h>

#include <map>
#include <stdexcept>

#include "common/embedded.hpp"

namespace orders::redis {

const Script& script(std::string_view name) {
  // Every embedded script, made once (thread-safe static initialisation); names never change.
  static const std::map<std::string, Script, std::less<>> kScripts = [] {
    std::map<std::string, Script, std::less<>> all;
    for (const embedded::File& f : embedded::all()) {
      if (!f.name.starts_with("lua/") || !f.name.ends_with(".lua")) continue;
      std::string script_name(f.name.substr(4, f.name.size() - 8));
      all.emplace(script_name, Script{script_name, std::string(f.content)});
    }
    return all;
  }();
  auto it = kScripts.find(name);
  if (it == kScripts.end()) throw std::logic_error("Lua script not embedded: " + std::string(name));
  return it->second;
}

Reply Reply::from(const redisReply* r) {
  Reply out;
  if (!r) return out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Type::kArray;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(from(r->element[i]));
      break;
    default: out.type = Type::kNil;
  }
  return out;
}

}  // namespace orders::redis
