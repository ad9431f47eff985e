#include <gtest/gtest.h>

#include <set>

#include "common/uuid.hpp"

using namespace orders;

TEST(UuidV7, IsCanonicalVersion7WithRfcVariant) {
  std::string id = uuid::make_v7();
  ASSERT_TRUE(uuid::is_valid(id));
  EXPECT_EQ(id[14], '7');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
  EXPECT_EQ(*uuid::normalize(id), id);
}

TEST(UuidV7, LaterIdsSortLaterAcrossMilliseconds) {
  std::string a = uuid::make_v7();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::string b = uuid::make_v7();
  EXPECT_LT(a, b);
}

TEST(UuidV7, TenThousandAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.insert(uuid::make_v7());
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(UuidParse, RejectsMalformedText) {
  EXPECT_FALSE(uuid::is_valid(""));
  EXPECT_FALSE(uuid::is_valid("not-a-uuid"));
  EXPECT_FALSE(uuid::is_valid("0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9"));    // short
  EXPECT_FALSE(uuid::is_valid("0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d0"));  // long
  EXPECT_FALSE(uuid::is_valid("0190c3b2x6f1e-7a2b-8c3d-4e5f6a7b8c9"));    // bad dash
  EXPECT_FALSE(uuid::is_valid("0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9g"));   // bad hex
}

TEST(UuidParse, NormalizesUpperCase) {
  EXPECT_EQ(*uuid::normalize("0190C3B2-6F1E-7A2B-8C3D-4E5F6A7B8C9D"), "0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d");
}
