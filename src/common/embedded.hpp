#pragma once

#include <optional>
#include <span>
#include <string_view>

// Files of the source tree (migrations, Lua scripts) compiled into the binary so that
// `orders` is self-contained. Names are "folder/file", e.g. "migrations/0001_schema.sql".
namespace orders::embedded {

struct File {
  std::string_view name;
  std::string_view content;
};

// Sorted by name.
std::span<const File> all();

inline std::optional<std::string_view> find(std::string_view name) {
  for (const File& f : all()) {
    if (f.name == name) return f.content;
  }
  return std::nullopt;
}

}  // namespace orders::embedded
