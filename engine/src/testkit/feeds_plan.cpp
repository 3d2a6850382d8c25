#include "testkit/feeds_plan.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <numeric>
#include <set>

namespace syndic::testkit {
namespace {

constexpr std::array<std::string_view, feed_fault_count> fault_names = {
    "none", "gone", "error", "unavailable", "throttle", "slow", "moved",
    "found", "redirect308", "redirect307", "loop", "malformed", "hostile"};
constexpr std::array<std::string_view, hostile_shape_count> shape_names = {"deep", "entities", "prefixes", "huge"};

}  // namespace

std::string_view to_string(feed_fault f) { return fault_names[static_cast<std::size_t>(f)]; }

std::optional<feed_fault> feed_fault_from_string(std::string_view name) {
  for (std::size_t i = 0; i < fault_names.size(); ++i)
    if (fault_names[i] == name) return static_cast<feed_fault>(i);
  return std::nullopt;
}

std::string_view to_string(hostile_shape s) { return shape_names[static_cast<std::size_t>(s)]; }

std::optional<std::map<feed_fault, double>> parse_fault_shares(std::string_view spec, std::string& error) {
  std::map<feed_fault, double> out;
  double total = 0;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view part = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    auto eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    auto fault = feed_fault_from_string(name);
    if (eq == std::string_view::npos || !fault || *fault == feed_fault::none) {
      std::string known;
      for (std::size_t i = 1; i < fault_names.size(); ++i) known += (i > 1 ? ", " : "") + std::string(fault_names[i]);
      error = "'" + std::string(part) + "': expected FAULT=P% with FAULT one of " + known;
      return std::nullopt;
    }
    std::string_view value = part.substr(eq + 1);
    if (value.ends_with('%')) value.remove_suffix(1);
    double p = -1;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), p);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || !(p >= 0 && p <= 100)) {
      error = "'" + std::string(part) + "': the share must be a percentage from 0 to 100";
      return std::nullopt;
    }
    out[*fault] += p;
    total += p;
  }
  if (total > 100 + 1e-9) {
    error = "the shares add up to more than 100%";
    return std::nullopt;
  }
  return out;
}

std::vector<created_item> created_items(std::string_view body) {
  std::vector<created_item> out;
  std::set<std::pair<std::size_t, std::uint64_t>> seen;
  constexpr std::string_view key = "/items/";
  for (auto at = body.find(key); at != std::string_view::npos; at = body.find(key, at + key.size())) {
    const char* p = body.data() + at + key.size();
    const char* end = body.data() + body.size();
    created_item c;
    auto number = [&](auto& v) {
      auto [next, ec] = std::from_chars(p, end, v);
      if (ec != std::errc{} || next == p) return false;
      p = next;
      return true;
    };
    auto literal = [&](std::string_view s) {
      if (static_cast<std::size_t>(end - p) < s.size() || std::string_view(p, s.size()) != s) return false;
      p += s.size();
      return true;
    };
    if (number(c.feed) && literal("/") && number(c.k) && literal("?created_ms=") && number(c.created_ms) &&
        seen.insert({c.feed, c.k}).second)
      out.push_back(c);
  }
  return out;
}

namespace detail {

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string_view extension(feeds_format f) {
  switch (f) {
    case feeds_format::atom: return "atom";
    case feeds_format::json: return "json";
    default: return "rss";
  }
}

std::vector<feed_fault> assign_faults(std::size_t count, const std::map<feed_fault, double>& shares,
                                      const std::map<std::size_t, feed_fault>& explicit_faults) {
  std::vector<feed_fault> out(count, feed_fault::none);
  // A fixed shuffle, so faulty feeds are spread over the listeners and formats rather than
  // being the first ones.
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [](std::size_t a, std::size_t b) { return mix64(a) < mix64(b); });
  double cumulative = 0;
  for (const auto& [fault, share] : shares) {  // in the enum's order: the same in every run
    auto from = static_cast<std::size_t>(std::llround(cumulative * static_cast<double>(count) / 100));
    cumulative += share;
    auto to = std::min(count, static_cast<std::size_t>(std::llround(cumulative * static_cast<double>(count) / 100)));
    for (std::size_t p = from; p < to; ++p) out[order[p]] = fault;
  }
  for (const auto& [i, fault] : explicit_faults)
    if (i < count) out[i] = fault;
  return out;
}

feeds_plan::feeds_plan(const feeds_options& o) {
  auto faults = assign_faults(o.count, o.fault_shares, o.fault_feeds);
  feeds_.resize(o.count);
  std::size_t hostile_seen = 0;
  for (std::size_t i = 0; i < o.count; ++i) {
    feed_entry& e = feeds_[i];
    e.index = i;
    e.format = o.format == feeds_format::mixed ? static_cast<feeds_format>(i % 3) : o.format;
    e.fault = faults[i];
    e.channel = o.channels > 1 ? "feeds-" + std::to_string(i % o.channels) : "feeds";
    e.id = "feed-" + std::to_string(i);
    if (e.fault == feed_fault::hostile) {
      auto it = o.hostile_feeds.find(i);
      e.shape = it != o.hostile_feeds.end() ? it->second : static_cast<hostile_shape>(hostile_seen % hostile_shape_count);
      ++hostile_seen;
      e.id += "-hostile-" + std::string(to_string(e.shape));
    } else if (e.fault != feed_fault::none) {
      e.id += "-" + std::string(to_string(e.fault));
    }
  }
  if (o.skew && o.count > 1) {
    cumulative_.resize(o.count);
    double sum = 0;
    for (std::size_t i = 0; i < o.count; ++i) cumulative_[i] = sum += 1.0 / static_cast<double>(i + 1);
  }
}

std::size_t feeds_plan::feed_of(std::uint64_t k) const {
  if (feeds_.empty()) return 0;
  if (cumulative_.empty()) return static_cast<std::size_t>(k % feeds_.size());
  // u in [0, total): the first feed whose running sum passes it.
  double u = static_cast<double>(mix64(k) >> 11) * 0x1.0p-53 * cumulative_.back();
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), feeds_.size() - 1);
}

feed_entry feeds_plan::entry(std::size_t i, const std::vector<std::string>& base_urls) const {
  feed_entry e = feeds_[i];
  if (!base_urls.empty())
    e.url = base_urls[i % base_urls.size()] + "/feeds/" + std::to_string(i) + "." + std::string(extension(e.format));
  return e;
}

formats::item make_item(std::size_t feed, const made_item& m, std::string_view base_url, std::size_t content_bytes) {
  formats::item it;
  std::string f = std::to_string(feed), k = std::to_string(m.k), ms = std::to_string(m.created_ms);
  it.id = "urn:syndic:feeds:" + f + ":" + k;
  it.title = "Item " + k + " of feed " + f;
  it.links.push_back({std::string(base_url) + "/items/" + f + "/" + k + "?created_ms=" + ms, "alternate", "", "", "", {}});
  it.summary = "Synthetic item " + k + " of feed " + f + ".";  // created_ms only in the link: once per item
  it.content = "<p>Item " + k + " of feed " + f + ", made at " + ms + " ms since the epoch.</p>";
  if (content_bytes > 0) {
    static constexpr std::string_view words = "lorem ipsum dolor sit amet consectetur adipiscing elit ";
    it.content += "<p>";
    for (std::size_t n = 0; n < content_bytes; n += words.size())
      it.content.append(words.substr(0, std::min(words.size(), content_bytes - n)));
    it.content += "</p>";
  }
  it.content_type = formats::text_type::html;
  it.published = formats::timestamp{m.created_ms, 0};
  it.updated = it.published;
  return it;
}

}  // namespace detail
}  // namespace syndic::testkit
