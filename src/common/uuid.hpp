#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orders::uuid {

// A UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits, so ids made later
// sort later and index well. Lower-case canonical text form.
inline constexpr std::size_t kTextLength = 36;  // 8-4-4-4-12

std::string make_v7();

// True for the canonical 8-4-4-4-12 hexadecimal form (any version, either case).
bool is_valid(std::string_view text);

// Canonical lower-case form, or nothing when the text is not a UUID.
std::optional<std::string> normalize(std::string_view text);

}  // namespace orders::uuid
