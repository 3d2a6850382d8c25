#pragma once
// What `syndic feeds` plays, decided once from its options: each feed's format, fault and
// hostile shape, which feed gets item k, and the text of item k. Pure and deterministic: the
// same options give the same plan in every process, so tests can predict per-feed outcomes.

#include <syndic/formats/model.hpp>
#include <syndic/testkit/feeds.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace syndic::testkit::detail {

// An item made visible: its number and the wall-clock millisecond it appeared.
struct made_item {
  std::uint64_t k = 0;
  std::int64_t created_ms = 0;
};

class feeds_plan {
public:
  explicit feeds_plan(const feeds_options& o);

  std::size_t size() const { return feeds_.size(); }
  std::size_t feed_of(std::uint64_t k) const;
  // Feed i's entry with its URL on `base_urls[i mod L]` ("http://127.0.0.1:8080").
  feed_entry entry(std::size_t i, const std::vector<std::string>& base_urls) const;
  const feed_entry& at(std::size_t i) const { return feeds_[i]; }

private:
  std::vector<feed_entry> feeds_;  // url empty: filled by entry()
  std::vector<double> cumulative_;  // skew: the weights' running sums; empty: k mod N
};

// The faults of `count` feeds: shares (percent) filled over a fixed shuffle of the feeds, so
// a share of p gives round(p * count / 100) feeds, then the explicit ones.
std::vector<feed_fault> assign_faults(std::size_t count, const std::map<feed_fault, double>& shares,
                                      const std::map<std::size_t, feed_fault>& explicit_faults);

std::string_view extension(feeds_format f);  // "rss", "atom", "json"

// Item k of feed `feed` as the model the renderers take. `base_url` names the items' links.
formats::item make_item(std::size_t feed, const made_item& m, std::string_view base_url, std::size_t content_bytes);

std::uint64_t mix64(std::uint64_t x);  // splitmix64's finaliser: a fixed, well-spread hash

}  // namespace syndic::testkit::detail
