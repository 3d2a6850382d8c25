// The polling schedule (engine/src/poll/schedule.hpp): pure policy, so every rule is tested
// with made-up times. Feeds are simulated: items appear at known instants and each simulated
// poll reports how many appeared since the previous one.

#include "poll/schedule.hpp"

#include <syndic/formats/dates.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace syndic::poll {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using kind = poll_observation::kind;

sys_time at_unix(std::int64_t s) { return sys_time(std::chrono::duration_cast<sys_time::duration>(seconds(s))); }
std::int64_t unix_of(sys_time t) { return std::chrono::floor<seconds>(t.time_since_epoch()).count(); }

// 2026-12-02 is a Wednesday.
sys_time utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  return at_unix(formats::days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss);
}

const sys_time t0 = utc(2026, 12, 2, 10, 0, 0);

std::int64_t delay_of(sys_time next, sys_time now) { return unix_of(next) - unix_of(now); }

poll_observation observed(sys_time now, kind k, std::uint32_t new_items = 0) {
  poll_observation o;
  o.now = now;
  o.outcome = k;
  o.new_items = new_items;
  return o;
}

// Polls a feed whose items appear every `period` (and `backlog` before the first poll) for
// `span`, as the poller would, and returns the state at the end.
struct simulation {
  schedule_state state;
  std::vector<std::int64_t> delays;
};

simulation simulate(seconds period, seconds span, const schedule_limits& lim, double jitter = 0.5) {
  simulation sim;
  sys_time now = t0;
  sys_time last_poll = t0;
  bool first = true;
  // Items at t0 + k * period for k >= 1 (plus a backlog of 10 on the first poll).
  auto items_until = [&](sys_time t) -> std::int64_t { return (unix_of(t) - unix_of(t0)) / period.count(); };
  for (int polls = 0; polls < 100'000 && now < t0 + span; ++polls) {
    std::int64_t fresh = first ? 10 : items_until(now) - items_until(last_poll);
    poll_observation o = observed(now, fresh > 0 ? kind::changed : kind::not_modified, static_cast<std::uint32_t>(fresh));
    sys_time next = next_poll(sim.state, o, lim, jitter);
    EXPECT_GT(next, now);
    sim.delays.push_back(delay_of(next, now));
    last_poll = now;
    now = next;
    first = false;
  }
  return sim;
}

const schedule_limits wide{seconds(60), seconds(86400), seconds(6 * 3600)};

// ---- adaptive interval -------------------------------------------------------------------------

TEST(PollSchedule, HourlyFeedSettlesNearAnHour) {
  simulation s = simulate(hours(1), hours(24 * 5), wide);
  EXPECT_GE(s.state.interval.count(), 1800);
  EXPECT_LE(s.state.interval.count(), 2 * 3600);
  EXPECT_NEAR(s.state.items_per_hour, 1.0, 0.5);
}

TEST(PollSchedule, BusyFeedMovesToMinInterval) {
  simulation s = simulate(seconds(20), hours(12), wide);
  EXPECT_EQ(s.state.interval.count(), 60);
  EXPECT_GT(s.state.items_per_hour, 60);
}

TEST(PollSchedule, WeeklyFeedMovesToMaxInterval) {
  simulation s = simulate(hours(24 * 7), hours(24 * 7 * 5), wide);
  EXPECT_EQ(s.state.interval.count(), 86400);
  EXPECT_LT(s.state.items_per_hour, 1.0 / 24);
}

TEST(PollSchedule, HourlyIsPolledMoreOftenThanDailyThanWeekly) {
  auto hourly = simulate(hours(1), hours(24 * 14), wide).state.interval;
  auto daily = simulate(hours(24), hours(24 * 14), wide).state.interval;
  auto weekly = simulate(hours(24 * 7), hours(24 * 14), wide).state.interval;
  RecordProperty("hourly_interval_s", std::to_string(hourly.count()));
  RecordProperty("daily_interval_s", std::to_string(daily.count()));
  std::printf("settled intervals: hourly feed %llds, daily feed %llds, weekly feed %llds\n",
              static_cast<long long>(hourly.count()), static_cast<long long>(daily.count()),
              static_cast<long long>(weekly.count()));
  EXPECT_LT(hourly, daily);
  EXPECT_LE(daily, weekly);
  EXPECT_GE(daily.count(), 6 * 3600);  // and at most max: the limits
}

TEST(PollSchedule, QuietPollsLengthenGraduallyTowardMax) {
  schedule_state st;
  sys_time now = t0;
  std::int64_t previous = 0;
  for (int i = 0; i < 40; ++i) {
    sys_time next = next_poll(st, observed(now, kind::not_modified), wide, 0.5);
    std::int64_t interval = st.interval.count();
    if (i == 0) {
      EXPECT_EQ(interval, 60);  // the first poll starts from min_interval
    } else {
      EXPECT_EQ(interval, std::min<std::int64_t>(std::llround(static_cast<double>(previous) * 1.5), 86400)) << i;
    }
    previous = interval;
    now = next;
  }
  EXPECT_EQ(previous, 86400);
}

TEST(PollSchedule, NewItemsShortenTheInterval) {
  schedule_state st;
  st.interval = seconds(4 * 3600);
  st.last_new_item = t0 - hours(4);
  next_poll(st, observed(t0, kind::changed, 8), wide, 0.5);  // 8 items in 4 hours: 2 per hour
  EXPECT_NEAR(st.items_per_hour, 2.0, 1e-9);
  EXPECT_EQ(st.interval.count(), 1800);
  EXPECT_EQ(st.last_new_item, t0);
  // Without a rate yet, new items halve the interval.
  schedule_state fresh;
  fresh.interval = seconds(1000);
  next_poll(fresh, observed(t0, kind::changed, 3), wide, 0.5);
  EXPECT_EQ(fresh.interval.count(), 500);
  EXPECT_LT(fresh.items_per_hour, 0);  // the first items are a backlog: no rate sample
  // A rate that asks for a longer interval does not lengthen it on a poll with new items.
  schedule_state slow;
  slow.interval = seconds(600);
  slow.last_new_item = t0 - hours(24);
  next_poll(slow, observed(t0, kind::changed, 1), wide, 0.5);
  EXPECT_EQ(slow.interval.count(), 600);
}

TEST(PollSchedule, ChangedBodyWithoutNewItemsCountsAsQuiet) {
  schedule_state st;
  st.interval = seconds(600);
  next_poll(st, observed(t0, kind::changed, 0), wide, 0.5);
  EXPECT_EQ(st.interval.count(), 900);
}

TEST(PollSchedule, QuietSpanCapsTheRate) {
  schedule_state st;
  st.interval = seconds(3600);
  st.items_per_hour = 10;
  st.last_new_item = t0 - hours(5);
  next_poll(st, observed(t0, kind::not_modified), wide, 0.5);
  EXPECT_NEAR(st.items_per_hour, 0.2, 1e-9);  // nothing in 5 hours: at most one per 5 hours
}

TEST(PollSchedule, IntervalStaysWithinTheSourceLimits) {
  schedule_limits lim{seconds(300), seconds(900), seconds(3600)};
  schedule_state st;
  st.interval = seconds(5);  // from a state stored under other limits
  sys_time next = next_poll(st, observed(t0, kind::changed, 50), lim, 0.0);
  EXPECT_EQ(st.interval.count(), 300);
  EXPECT_GE(delay_of(next, t0), 300);
  st.interval = seconds(100'000);
  next = next_poll(st, observed(t0, kind::not_modified), lim, 0.999);
  EXPECT_EQ(st.interval.count(), 900);
  EXPECT_LE(delay_of(next, t0), 900);
}

TEST(PollSchedule, JitterSpreadsAboutTenPercentAndIsDeterministic) {
  std::set<std::int64_t> delays;
  for (int i = 0; i < 100; ++i) {
    schedule_state st;
    st.interval = seconds(1000);
    st.last_new_item = t0 - seconds(1000);
    st.items_per_hour = 3.6;
    sys_time next = next_poll(st, observed(t0, kind::changed, 1), wide, i / 100.0);
    std::int64_t d = delay_of(next, t0);
    EXPECT_GE(d, 900);
    EXPECT_LE(d, 1100);
    delays.insert(d);
    schedule_state again;
    again.interval = seconds(1000);
    again.last_new_item = t0 - seconds(1000);
    again.items_per_hour = 3.6;
    EXPECT_EQ(next_poll(again, observed(t0, kind::changed, 1), wide, i / 100.0), next);
  }
  EXPECT_GE(delays.size(), 90u);
}

// ---- hints -------------------------------------------------------------------------------------

// The delay after one quiet 304 at min_interval with `o`'s hints, at the lowest jitter.
std::int64_t floor_with(poll_observation o, const schedule_limits& lim = wide) {
  schedule_state st;
  st.interval = seconds(60);
  o.now = t0;
  return delay_of(next_poll(st, o, lim, 0.0), t0);
}

TEST(PollSchedule, MaxAgeIsAFloor) {
  poll_observation o = observed(t0, kind::not_modified);
  o.max_age = seconds(7200);
  EXPECT_EQ(floor_with(o), 7200);
}

TEST(PollSchedule, ExpiresIsAFloorUnlessMaxAgeIsSet) {
  poll_observation o = observed(t0, kind::not_modified);
  o.expires = t0 + hours(3);
  EXPECT_EQ(floor_with(o), 3 * 3600);
  o.max_age = seconds(600);
  EXPECT_EQ(floor_with(o), 600);
  poll_observation past = observed(t0, kind::not_modified);
  past.expires = t0 - hours(3);  // already expired: no floor
  EXPECT_LT(floor_with(past), 100);
}

TEST(PollSchedule, TtlAndUpdatePeriodAreFloors) {
  poll_observation o = observed(t0, kind::changed, 0);
  o.ttl = minutes(30);
  EXPECT_EQ(floor_with(o), 1800);
  o.update_period = hours(2);
  EXPECT_EQ(floor_with(o), 7200);  // the largest hint wins
  o.max_age = seconds(10);
  EXPECT_EQ(floor_with(o), 7200);
}

TEST(PollSchedule, HintsAreCappedAtMaxInterval) {
  schedule_limits lim{seconds(60), seconds(3600), seconds(6 * 3600)};
  poll_observation o = observed(t0, kind::changed, 0);
  o.ttl = hours(24);
  EXPECT_EQ(floor_with(o, lim), 3600);
  o.expires = parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT");  // clamped there: no overflow here
  o.max_age = seconds::max();
  o.update_period = seconds::max();
  EXPECT_EQ(floor_with(o, lim), 3600);
}

TEST(PollSchedule, JitterNeverGoesBelowAHint) {
  for (double j : {0.0, 0.25, 0.5, 0.99}) {
    schedule_state st;
    st.interval = seconds(3000);
    poll_observation o = observed(t0, kind::not_modified);
    o.max_age = seconds(3000);
    EXPECT_GE(delay_of(next_poll(st, o, wide, j), t0), 3000) << j;
  }
}

TEST(PollSchedule, TtlKeepsHoldingOverTheFollowing304s) {
  schedule_state st;
  poll_observation doc = observed(t0, kind::changed, 0);
  doc.ttl = hours(2);
  sys_time now = next_poll(st, doc, wide, 0.0);
  for (int i = 0; i < 5; ++i) {
    sys_time next = next_poll(st, observed(now, kind::not_modified), wide, 0.0);
    EXPECT_GE(delay_of(next, now), 2 * 3600) << i;
    now = next;
  }
}

// ---- skipHours / skipDays ----------------------------------------------------------------------

std::uint32_t hours_mask(std::initializer_list<int> hs) {
  std::uint32_t m = 0;
  for (int h : hs) m |= 1u << h;
  return m;
}

TEST(PollSchedule, SkipHoursMoveThePollToTheNextAllowedHour) {
  schedule_state st;
  st.interval = seconds(3600);
  poll_observation o = observed(t0, kind::changed, 0);  // 10:00, next at 11:30 (1.5 h)
  o.skip_hours = hours_mask({11, 12, 13, 14, 15});
  EXPECT_EQ(next_poll(st, o, wide, 0.5), utc(2026, 12, 2, 16, 0, 0) + seconds(450));
  schedule_state st2;
  st2.interval = seconds(3600);
  EXPECT_EQ(next_poll(st2, o, wide, 0.0), utc(2026, 12, 2, 16, 0, 0));
  // An allowed hour keeps the time as it was.
  schedule_state st3;
  st3.interval = seconds(3600);
  o.skip_hours = hours_mask({0, 1, 2});
  EXPECT_EQ(next_poll(st3, o, wide, 0.5), t0 + seconds(5400));
}

TEST(PollSchedule, SkipHoursWrapPastMidnight) {
  schedule_state st;
  st.interval = seconds(3600);
  poll_observation o = observed(utc(2026, 12, 2, 22, 0, 0), kind::changed, 0);
  o.skip_hours = hours_mask({23, 0, 1, 2, 3, 4, 5});
  EXPECT_EQ(next_poll(st, o, wide, 0.0), utc(2026, 12, 3, 6, 0, 0));
}

TEST(PollSchedule, SkipDaysMoveThePollToTheNextAllowedDay) {
  schedule_state st;
  st.interval = seconds(3600);
  poll_observation o = observed(t0, kind::changed, 0);  // Wednesday
  o.skip_days = (1u << 3) | (1u << 4);                  // Wednesday and Thursday
  EXPECT_EQ(next_poll(st, o, wide, 0.0), utc(2026, 12, 4, 0, 0, 0));  // Friday 00:00
  // Days and hours together: Friday is allowed but not before 08:00.
  schedule_state st2;
  st2.interval = seconds(3600);
  o.skip_hours = hours_mask({0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(next_poll(st2, o, wide, 0.0), utc(2026, 12, 4, 8, 0, 0));
}

TEST(PollSchedule, EverySkippedHourOrDayIsIgnored) {
  schedule_state st;
  st.interval = seconds(3600);
  poll_observation o = observed(t0, kind::changed, 0);
  o.skip_hours = 0xffffff;
  o.skip_days = 0x7f;
  EXPECT_EQ(next_poll(st, o, wide, 0.5), t0 + seconds(5400));
  // Every hour skipped but some days allowed: only the days count.
  schedule_state st2;
  st2.interval = seconds(3600);
  o.skip_days = 1u << 3;  // Wednesday
  EXPECT_EQ(next_poll(st2, o, wide, 0.0), utc(2026, 12, 3, 0, 0, 0));
  // Bits beyond hour 23 and day 6 name nothing.
  schedule_state st3;
  st3.interval = seconds(3600);
  o.skip_hours = 0xff000000u;
  o.skip_days = 0x80;
  EXPECT_EQ(next_poll(st3, o, wide, 0.5), t0 + seconds(5400));
}

TEST(PollSchedule, SkipMasksHoldOverPollsWithoutADocument) {
  schedule_state st;
  st.interval = seconds(3600);
  poll_observation doc = observed(t0, kind::changed, 0);
  doc.skip_hours = hours_mask({11, 12, 13, 14, 15});
  next_poll(st, doc, wide, 0.0);
  schedule_state after304 = st;
  after304.interval = seconds(3600);
  EXPECT_EQ(next_poll(after304, observed(t0, kind::not_modified), wide, 0.0), utc(2026, 12, 2, 16, 0, 0));
  schedule_state after_error = st;  // 11:10 + the 2 minutes of a first error: skipped
  EXPECT_EQ(next_poll(after_error, observed(t0 + minutes(70), kind::error), wide, 0.5),
            utc(2026, 12, 2, 16, 0, 0) + seconds(450));
  // A document without the elements clears them.
  schedule_state cleared = st;
  cleared.interval = seconds(3600);
  EXPECT_EQ(next_poll(cleared, observed(t0, kind::changed, 0), wide, 0.5), t0 + seconds(5400));
  EXPECT_EQ(cleared.skip_hours, 0u);
}

// ---- errors and Retry-After ---------------------------------------------------------------------

TEST(PollSchedule, ErrorsBackOffExponentiallyUpToTheCap) {
  schedule_limits lim{seconds(60), seconds(3600), seconds(2 * 3600)};
  schedule_state st;
  st.interval = seconds(1800);
  std::int64_t expected = 60;
  for (int i = 1; i <= 12; ++i) {
    sys_time next = next_poll(st, observed(t0, kind::error), lim, 0.5);
    expected = std::min<std::int64_t>(expected * 2, 7200);
    EXPECT_EQ(delay_of(next, t0), expected) << i;
    EXPECT_EQ(st.consecutive_errors, static_cast<std::uint32_t>(i));
    EXPECT_EQ(st.interval.count(), 1800);  // the adaptive interval waits for the source to recover
  }
  // Jitter keeps within +-10% and under the cap.
  schedule_state low = st, high = st;
  EXPECT_EQ(delay_of(next_poll(low, observed(t0, kind::error), lim, 0.0), t0), 6480);
  EXPECT_EQ(delay_of(next_poll(high, observed(t0, kind::error), lim, 0.999), t0), 7200);
  // A good poll resets the count.
  next_poll(st, observed(t0, kind::not_modified), lim, 0.5);
  EXPECT_EQ(st.consecutive_errors, 0u);
  EXPECT_EQ(delay_of(next_poll(st, observed(t0, kind::error), lim, 0.5), t0), 120);
}

TEST(PollSchedule, ManyErrorsDoNotOverflow) {
  schedule_state st;
  st.consecutive_errors = std::numeric_limits<std::uint32_t>::max() - 1;
  sys_time next = next_poll(st, observed(t0, kind::error), wide, 0.5);
  EXPECT_EQ(delay_of(next, t0), 6 * 3600);
  schedule_limits absurd{seconds::max(), seconds::max(), seconds::max()};
  schedule_state s2;
  next = next_poll(s2, observed(t0, kind::error), absurd, 0.5);
  EXPECT_GT(next, t0);
  schedule_limits inverted{seconds(-5), seconds(-10), seconds(0)};
  schedule_state s3;
  next = next_poll(s3, observed(t0, kind::not_modified), inverted, 0.5);
  EXPECT_GE(delay_of(next, t0), 1);
}

TEST(PollSchedule, RetryAfterPushesThePollOut) {
  schedule_state st;
  poll_observation o = observed(t0, kind::throttled);
  o.retry_after = t0 + seconds(1200);
  std::int64_t d = delay_of(next_poll(st, o, wide, 0.5), t0);
  EXPECT_GE(d, 1200);
  EXPECT_LE(d, 1320);
  schedule_state at_zero;
  EXPECT_EQ(delay_of(next_poll(at_zero, o, wide, 0.0), t0), 1200);  // never before it
}

TEST(PollSchedule, RetryAfterIsCappedAtMaxBackoff) {
  schedule_state st;
  poll_observation o = observed(t0, kind::throttled);
  o.retry_after = t0 + hours(24 * 30);
  EXPECT_EQ(delay_of(next_poll(st, o, wide, 0.5), t0), 6 * 3600);
}

TEST(PollSchedule, RetryAfterInThePastOrAbsentBacksOff) {
  schedule_state st;
  poll_observation o = observed(t0, kind::throttled);
  o.retry_after = t0 - hours(1);
  EXPECT_EQ(delay_of(next_poll(st, o, wide, 0.0), t0), 120);  // min_interval x 2^1
  o.retry_after.reset();
  EXPECT_EQ(delay_of(next_poll(st, o, wide, 0.5), t0), 240);
  EXPECT_EQ(st.consecutive_errors, 2u);
}

// ---- first polls -------------------------------------------------------------------------------

TEST(PollSchedule, FirstPollsSpreadOverTheStartWindow) {
  std::set<std::int64_t> buckets;
  for (int i = 0; i < 10'000; ++i) {
    sys_time t = first_poll(std::nullopt, t0, seconds(30), i / 10'000.0);
    std::int64_t d = delay_of(t, t0);
    ASSERT_GE(d, 0);
    ASSERT_LT(d, 31);
    buckets.insert(d);
  }
  EXPECT_GE(buckets.size(), 30u);
  EXPECT_EQ(first_poll(std::nullopt, t0, seconds(0), 0.7), t0);
}

TEST(PollSchedule, StoredFutureNextPollIsKept) {
  EXPECT_EQ(first_poll(t0 + hours(2), t0, seconds(30), 0.5), t0 + hours(2));
  sys_time past = first_poll(t0 - hours(2), t0, seconds(30), 0.5);  // overdue: spread like none
  EXPECT_GE(past, t0);
  EXPECT_LE(past, t0 + seconds(30));
}

TEST(PollSchedule, OddJitterValuesAreSafe) {
  for (double j : {-1.0, 1.0, 5.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    schedule_state st;
    st.interval = seconds(600);
    std::int64_t d = delay_of(next_poll(st, observed(t0, kind::not_modified), wide, j), t0);
    EXPECT_GE(d, 810) << j;
    EXPECT_LE(d, 990) << j;
    sys_time f = first_poll(std::nullopt, t0, seconds(30), j);
    EXPECT_GE(f, t0);
    EXPECT_LE(f, t0 + seconds(30));
  }
}

// ---- header parsers ----------------------------------------------------------------------------

TEST(PollScheduleParse, MaxAge) {
  EXPECT_EQ(parse_max_age("max-age=60"), seconds(60));
  EXPECT_EQ(parse_max_age("public, max-age=3600"), seconds(3600));
  EXPECT_EQ(parse_max_age("  Public ,MAX-AGE = 3600 , must-revalidate"), seconds(3600));
  EXPECT_EQ(parse_max_age("max-age=\"120\""), seconds(120));
  EXPECT_EQ(parse_max_age("max-age=0"), seconds(0));
  EXPECT_EQ(parse_max_age("max-age=10, max-age=20"), seconds(10));
  EXPECT_EQ(parse_max_age("s-maxage=10"), std::nullopt);
  EXPECT_EQ(parse_max_age("s-maxage=10, max-age=30"), seconds(30));
  EXPECT_EQ(parse_max_age(""), std::nullopt);
  EXPECT_EQ(parse_max_age("public"), std::nullopt);
}

TEST(PollScheduleParse, MaxAgeNoStoreAndNoCacheGiveNoFloor) {
  EXPECT_EQ(parse_max_age("no-store"), std::nullopt);
  EXPECT_EQ(parse_max_age("max-age=60, no-store"), std::nullopt);
  EXPECT_EQ(parse_max_age("No-Cache, max-age=60"), std::nullopt);
  // no-cache naming fields concerns those fields only; a comma inside quotes splits nothing.
  EXPECT_EQ(parse_max_age("no-cache=\"Set-Cookie, X-Foo\", max-age=60"), seconds(60));
  EXPECT_EQ(parse_max_age("private=\"a, max-age=5\", max-age=60"), seconds(60));
}

TEST(PollScheduleParse, MaxAgeMalformedAndAbsurd) {
  EXPECT_EQ(parse_max_age("max-age=1e30"), std::nullopt);
  EXPECT_EQ(parse_max_age("max-age=-1"), std::nullopt);
  EXPECT_EQ(parse_max_age("max-age="), std::nullopt);
  EXPECT_EQ(parse_max_age("max-age"), std::nullopt);
  EXPECT_EQ(parse_max_age("max-age=60 junk"), std::nullopt);
  EXPECT_EQ(parse_max_age("max-age=\"60"), std::nullopt);
  EXPECT_EQ(parse_max_age("max-age=\"6\\0\""), std::nullopt);
  EXPECT_EQ(parse_max_age("max-age=99999999999999999999999999999999999999"), seconds(std::int64_t{1} << 31));
  EXPECT_EQ(parse_max_age("max-age=2147483648"), seconds(std::int64_t{1} << 31));
  EXPECT_EQ(parse_max_age("max-age=2147483647"), seconds(2147483647));
  EXPECT_EQ(parse_max_age(std::string_view("max-age=6\0", 10)), std::nullopt);
  // A long hostile value is read in one pass (it would take minutes if quadratic).
  std::string big = "a=\"";
  for (int i = 0; i < 200'000; ++i) big += "\\\", max-age=1 ";
  big += ", max-age=7";
  EXPECT_EQ(parse_max_age(big), std::nullopt);  // all inside one unterminated quote
  std::string many;
  for (int i = 0; i < 200'000; ++i) many += ", a=b";
  many += ", max-age=7";
  EXPECT_EQ(parse_max_age(many), seconds(7));
}

constexpr std::int64_t sunday_1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(PollScheduleParse, HttpDateThreeForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), at_unix(sunday_1994));
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), at_unix(sunday_1994));
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), at_unix(sunday_1994));
  EXPECT_EQ(parse_http_date("  Sun Nov  6 08:49:37 1994 \r\n"), at_unix(sunday_1994));
  EXPECT_EQ(parse_http_date("Wed Nov 16 08:49:37 1994"), at_unix(sunday_1994 + 10 * 86400));
  EXPECT_EQ(parse_http_date("Wed, 02 Dec 2026 10:00:00 GMT"), t0);
}

TEST(PollScheduleParse, HttpDateRejectsGarbage) {
  for (std::string_view bad : {"", "0", "-1", "yesterday", "Sun Nov  6 08:49:37",
                               "Sun Nov 32 08:49:37 1994", "Sun Foo  6 08:49:37 1994", "Sun Nov  6 25:49:37 1994",
                               "Sun Nov  6 08:49:37 19945", "Xyz Nov  6 08:49:37 1994", "Sun, 31 Feb 2026 00:00:00 GMT",
                               "Sun, 06 Nov 1994 08:49:37 GMT garbage"}) {
    EXPECT_EQ(parse_http_date(bad), std::nullopt) << bad;
  }
  std::string huge(1 << 20, '9');
  EXPECT_EQ(parse_http_date(huge), std::nullopt);
}

TEST(PollScheduleParse, HttpDateFarFutureAndPastDoNotOverflow) {
  auto far = parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT");
  ASSERT_TRUE(far);
  EXPECT_EQ(*far, utc(2200, 1, 1));
  EXPECT_GT(*far, t0);
  auto early = parse_http_date("Mon, 01 Jan 0001 00:00:00 GMT");
  ASSERT_TRUE(early);
  EXPECT_EQ(*early, at_unix(0));
}

TEST(PollScheduleParse, RetryAfterSeconds) {
  EXPECT_EQ(parse_retry_after("120", t0), t0 + seconds(120));
  EXPECT_EQ(parse_retry_after(" 0 ", t0), t0);
  auto huge = parse_retry_after("99999999999999999999", t0);
  ASSERT_TRUE(huge);
  EXPECT_GT(*huge, t0 + hours(24 * 365 * 9));  // saturated far out, not wrapped to the past
  std::string digits(100'000, '9');
  auto longer = parse_retry_after(digits, t0);
  ASSERT_TRUE(longer);
  EXPECT_EQ(*longer, *huge);
  for (std::string_view bad : {"", "-5", "+5", "1.5", "10s", "1e3", "12 34", "abc"})
    EXPECT_EQ(parse_retry_after(bad, t0), std::nullopt) << bad;
}

TEST(PollScheduleParse, RetryAfterDate) {
  EXPECT_EQ(parse_retry_after("Wed, 02 Dec 2026 10:30:00 GMT", t0), t0 + minutes(30));
  EXPECT_EQ(parse_retry_after("Wed Dec  2 10:30:00 2026", t0), t0 + minutes(30));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t0), t0);  // in the past: now
  EXPECT_EQ(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", t0), utc(2200, 1, 1));
  EXPECT_EQ(parse_retry_after("Wed, 02 Dec 2026 10:30:00 GMT junk", t0), std::nullopt);
}

TEST(PollScheduleParse, RandomInputsAreSafe) {
  // Bytes from the alphabet of the three grammars (and a few others), in random order: every
  // parser returns, and what it returns is within its documented bounds.
  static constexpr std::string_view alphabet = "0123456789 ,;=\"\\-:+.eEmaxgnocsStrMonTueDecGMTWdJ\t\r\n\x01\xff";
  std::uint64_t x = 0x243f6a8885a308d3ull;
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const std::vector<std::string_view> seeds = {"max-age=", "no-cache", "Sun, 06 Nov 1994 08:49:37 GMT",
                                               "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "120"};
  for (int round = 0; round < 20'000; ++round) {
    std::string v(seeds[next() % seeds.size()]);
    for (std::size_t k = 0, edits = next() % 6; k < edits && !v.empty(); ++k) {
      std::size_t at = next() % (v.size() + 1);
      char c = alphabet[next() % alphabet.size()];
      if (next() % 2) v.insert(v.begin() + static_cast<std::ptrdiff_t>(at), c);
      else if (at < v.size()) v[at] = c;
    }
    if (auto m = parse_max_age(v)) {
      EXPECT_GE(m->count(), 0) << v;
      EXPECT_LE(m->count(), std::int64_t{1} << 31) << v;
    }
    if (auto d = parse_http_date(v)) {
      EXPECT_GE(*d, at_unix(0)) << v;
      EXPECT_LE(*d, utc(2200, 1, 1)) << v;
    }
    if (auto r = parse_retry_after(v, t0)) {
      EXPECT_GE(*r, t0) << v;
    }
  }
}

TEST(PollScheduleParse, ParsedHintsFlowIntoTheSchedule) {
  // A 304 saying max-age=1e30 (malformed: no hint) and a Retry-After beyond every clock.
  poll_observation o = observed(t0, kind::not_modified);
  o.max_age = parse_max_age("max-age=1e30");
  o.expires = parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT");
  schedule_limits lim{seconds(60), seconds(3600), seconds(7200)};
  schedule_state st;
  st.interval = seconds(60);
  EXPECT_EQ(delay_of(next_poll(st, o, lim, 0.5), t0), 3600);
  poll_observation t = observed(t0, kind::throttled);
  t.retry_after = parse_retry_after("99999999999999999999", t0);
  EXPECT_EQ(delay_of(next_poll(st, t, lim, 0.5), t0), 7200);
}

}  // namespace
}  // namespace syndic::poll
