#pragma once

#include <string>
#include <string_view>

// The envelope of every event the service publishes (SPEC section 6):
//   {"id":EVENT_ID,"type":TYPE,"version":1,"occurredAt":RFC3339,"data":DATA}
// Ids, types and times are ours (UUIDs, fixed names, RFC 3339): nothing in them needs escaping.
namespace orders {

// Everything up to and including `"data":`; the caller appends the data and a closing '}'
// (reserve.lua does, so the one Redis step writes the whole event).
std::string event_head(std::string_view event_id, std::string_view type, std::string_view occurred_at);

std::string event_json(std::string_view event_id, std::string_view type, std::string_view occurred_at,
                       std::string_view data_json);

}  // namespace orders
