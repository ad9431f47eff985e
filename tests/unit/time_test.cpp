#include <gtest/gtest.h>

#include "common/time.hpp"

using namespace orders;

TEST(Rfc3339, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(1764062675123), "2025-11-25T09:24:35.123Z");
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2025-11-25T09:24:35.123Z"), 1764062675123);
  EXPECT_EQ(parse_rfc3339("2025-11-25T10:24:35.123+01:00"), 1764062675123);
  EXPECT_EQ(parse_rfc3339("2025-11-25T08:24:35.123-01:00"), 1764062675123);
  EXPECT_EQ(parse_rfc3339("2025-11-25t09:24:35.1z"), 1764062675100);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(Rfc3339, RoundTrips) {
  for (EpochMs t : {EpochMs{0}, EpochMs{1764062675123}, EpochMs{4102444799999}}) {
    EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
  }
}

TEST(Rfc3339, RejectsWhatIsNotADateTime) {
  for (const char* bad :
       {"", "2025-11-25", "2025-11-25T09:24:35", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2025-11-31T00:00:00Z",
        "2025-11-25T24:00:00Z", "2025-11-25 09:24:35Z", "2025-11-25T09:24:35.Z", "2025-11-25T09:24:35+0100",
        "2025-11-25T09:24:35Zjunk", "tomorrow"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}
