// The sink's latency distributions: what each spec means, and its quantiles.

#include <syndic/testkit/sink.hpp>

#include <gtest/gtest.h>

#include <cmath>

namespace syndic::testkit {
namespace {

using namespace std::chrono_literals;

TEST(SinkLatency, SpecsParse) {
  auto fixed = latency_distribution::parse("50");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->kind, latency_distribution::shape::fixed);
  EXPECT_EQ(fixed->a, 50ms);
  auto uniform = latency_distribution::parse("20-200");
  ASSERT_TRUE(uniform);
  EXPECT_EQ(uniform->kind, latency_distribution::shape::uniform);
  EXPECT_EQ(uniform->b, 200ms);
  auto exp = latency_distribution::parse("exp:40");
  ASSERT_TRUE(exp);
  EXPECT_EQ(exp->kind, latency_distribution::shape::exponential);
  EXPECT_TRUE(latency_distribution::parse("0")->zero());
  for (const char* bad : {"", "-5", "fast", "200-20", "10-", "exp:", "exp:x", "1e3", "99999999", "5ms"})
    EXPECT_FALSE(latency_distribution::parse(bad)) << bad;
}

TEST(SinkLatency, Quantiles) {
  auto fixed = *latency_distribution::parse("50");
  EXPECT_EQ(fixed.at(0.0), 50ms);
  EXPECT_EQ(fixed.at(0.99), 50ms);
  auto uniform = *latency_distribution::parse("20-200");
  EXPECT_EQ(uniform.at(0.0), 20ms);
  EXPECT_EQ(uniform.at(0.5), 110ms);
  EXPECT_EQ(uniform.at(0.9999999), 200ms);
  auto exp = *latency_distribution::parse("exp:100");
  EXPECT_EQ(exp.at(0.0), 0ms);
  EXPECT_EQ(exp.at(0.5).count(), static_cast<long long>(100 * std::log(2.0)));  // the median
  EXPECT_EQ(exp.at(0.99999), 1000ms);                                            // capped at 10x
}

}  // namespace
}  // namespace syndic::testkit
