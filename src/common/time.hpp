#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orders {

// Milliseconds since the Unix epoch, UTC.
using EpochMs = std::int64_t;

EpochMs now_ms();

// RFC 3339 in UTC with milliseconds: "2026-11-25T09:24:35.123Z".
std::string format_rfc3339(EpochMs ms);

// RFC 3339 date-time ("2026-11-25T09:24:35Z", "...T09:24:35.5+02:00", lower-case t/z too).
// Nothing for anything else, including impossible dates.
std::optional<EpochMs> parse_rfc3339(std::string_view text);

}  // namespace orders
