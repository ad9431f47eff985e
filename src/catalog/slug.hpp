#pragma once

#include <string>
#include <string_view>

namespace orders::catalog {

// "Home & Kitchen" → "home-kitchen": lower-case ASCII letters and digits joined by single
// dashes. Empty when the name has no ASCII letter or digit (the caller then asks for a slug).
std::string derive_slug(std::string_view name);

// What derive_slug produces and the schema accepts: ^[a-z0-9]+(-[a-z0-9]+)*$, at most 200.
bool is_valid_slug(std::string_view slug);

}  // namespace orders::catalog
