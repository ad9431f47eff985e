#include "storage/redis/reply.hpp"

#include <hiredis/hiredis.h>

#include <stdexcept>

#include "common/embedded.hpp"

namespace orders::redis {

Script embedded_script(std::string_view name) {
  auto source = embedded::find("lua/" + std::string(name) + ".lua");
  if (!source) throw std::logic_error("Lua script not embedded: " + std::string(name));
  return Script{std::string(name), std::string(*source)};
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
