#include "common/event_envelope.hpp"

namespace orders {

std::string event_head(std::string_view event_id, std::string_view type, std::string_view occurred_at) {
  std::string out;
  out.reserve(96 + type.size());
  out += R"({"id":")";
  out += event_id;
  out += R"(","type":")";
  out += type;
  out += R"(","version":1,"occurredAt":")";
  out += occurred_at;
  out += R"(","data":)";
  return out;
}

std::string event_json(std::string_view event_id, std::string_view type, std::string_view occurred_at,
                       std::string_view data_json) {
  std::string out = event_head(event_id, type, occurred_at);
  out += data_json;
  out += '}';
  return out;
}

}  // namespace orders
