#include <gtest/gtest.h>

#include "http/admin_auth.hpp"

using namespace orders::http;

TEST(ConstantTimeEquals, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_TRUE(constant_time_equals("token", "token"));
  EXPECT_FALSE(constant_time_equals("token", "tokem"));
  EXPECT_FALSE(constant_time_equals("token", "token "));
  EXPECT_FALSE(constant_time_equals("token", "tok"));
  EXPECT_FALSE(constant_time_equals("", "t"));
  // A shorter string that is a prefix padded with NULs must not compare equal.
  EXPECT_FALSE(constant_time_equals(std::string_view("ab\0", 3), "ab"));
}

TEST(CheckAdmin, AcceptsTheBearerToken) {
  EXPECT_FALSE(check_admin("t0k", "Bearer t0k").has_value());
  EXPECT_FALSE(check_admin("t0k", "BEARER t0k").has_value());
  EXPECT_FALSE(check_admin("t0k", "Bearer   t0k ").has_value());
}

TEST(CheckAdmin, MissingOrOtherSchemeIs401) {
  for (const char* header : {"", "Bearer", "Bearer ", "Basic dDBr", "t0k", "Bearert0k"}) {
    auto res = check_admin("t0k", header);
    ASSERT_TRUE(res.has_value()) << header;
    EXPECT_EQ(res->status, 401) << header;
    EXPECT_NE(res->body.find("\"UNAUTHORIZED\""), std::string::npos);
  }
}

TEST(CheckAdmin, WrongTokenIs403) {
  auto res = check_admin("t0k", "Bearer t0K");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->status, 403);
  EXPECT_NE(res->body.find("\"FORBIDDEN\""), std::string::npos);
}
