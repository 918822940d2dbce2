#include "etcd/base64.hpp"

#include <gtest/gtest.h>

namespace pg_ha::etcd {
namespace {

TEST(Base64, RoundTripsEveryLengthAndByte) {
  std::string raw;
  for (int i = 0; i < 300; ++i) {
    auto decoded = base64_decode(base64_encode(raw));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded.value(), raw);
    raw.push_back(static_cast<char>(i * 37));
  }
}

TEST(Base64, KnownVectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYg==").value(), "foob");
}

TEST(Base64, RejectsMalformedInput) {
  for (const char* bad : {"Zm9", "Zm9v!", "Zm==Zm9v", "Z===", "====", "Zm9v\n", "Zm 9", "Zg=a"}) {
    auto r = base64_decode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, ErrorKind::Protocol) << bad;
    }
  }
}

}  // namespace
}  // namespace pg_ha::etcd
