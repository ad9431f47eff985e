#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "common/json_writer.hpp"

using orders::append_json_string;

namespace {

std::string as_json(std::string_view v) {
  std::string out = "x";  // appends: what is there stays
  append_json_string(out, v);
  return out.substr(1);
}

}  // namespace

TEST(AppendJsonString, EscapesWhatJsonRequiresAndCopiesTheRest) {
  EXPECT_EQ(as_json(""), R"("")");
  EXPECT_EQ(as_json("plain text"), R"("plain text")");
  EXPECT_EQ(as_json(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(as_json(R"(a\b)"), R"("a\\b")");
  EXPECT_EQ(as_json("\"\\\n"), R"("\"\\\n")");
  EXPECT_EQ(as_json("line\r\n\tend\b\f"), R"("line\r\n\tend\b\f")");
  EXPECT_EQ(as_json(std::string("nul\0here", 8)), R"("nul\u0000here")");
  EXPECT_EQ(as_json("\x1f\x01"), R"("\u001f\u0001")");
  EXPECT_EQ(as_json("caf\xc3\xa9 / <ok>"), "\"caf\xc3\xa9 / <ok>\"") << "UTF-8 and '/' go out as they are";
}

// Every ASCII character alone, first, between and last, against Boost.JSON's serializer.
TEST(AppendJsonString, AgreesWithBoostJsonOnEveryAsciiCharacter) {
  for (int c = 0; c < 128; ++c) {
    const std::string ch(1, static_cast<char>(c));
    for (const std::string& s : {ch, ch + "ab", "ab" + ch + "cd", "ab" + ch, ch + ch}) {
      EXPECT_EQ(as_json(s), boost::json::serialize(boost::json::value(s))) << "character " << c;
    }
  }
}
