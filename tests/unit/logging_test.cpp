#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "common/logging.hpp"

using orders::logging::one_line;

TEST(Logging, LibpqMultiLineErrorsBecomeOneLine) {
  EXPECT_EQ(
      one_line("ERROR:  duplicate key value violates unique constraint \"orders_pkey\"\n"
               "DETAIL:  Key (id)=(1) already exists.\n"),
      "ERROR:  duplicate key value violates unique constraint \"orders_pkey\" DETAIL:  Key (id)=(1) already exists.");
  EXPECT_EQ(one_line("connection to server failed: Connection refused\n\tIs the server running?"),
            "connection to server failed: Connection refused Is the server running?");
  EXPECT_EQ(one_line("a\r\n\r\nb"), "a b");
  EXPECT_EQ(one_line("no break"), "no break");
  EXPECT_EQ(one_line(""), "");
}

TEST(Logging, TextModeWritesOneLinePerEvent) {
  orders::logging::configure(orders::logging::Format::kText, "info");
  testing::internal::CaptureStderr();
  spdlog::error("statement failed: {}", "ERROR:  boom\nDETAIL:  more\n");
  spdlog::default_logger()->flush();
  const std::string out = testing::internal::GetCapturedStderr();
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
  EXPECT_NE(out.find("statement failed: ERROR:  boom DETAIL:  more"), std::string::npos) << out;
  EXPECT_EQ(orders::logging::format(), orders::logging::Format::kText);
}
