// Which items of a polled feed are new (engine/src/poll/identity.hpp): identity fallbacks,
// fingerprints, and the idempotency keys the store dedups on.

#include "poll/identity.hpp"

#include <syndic/formats/parse.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace syndic::poll {
namespace {

formats::item sample() {
  formats::item it;
  it.id = "tag:wire.example,2026:1";
  it.title = "Rates held";
  it.summary = "<p>The bank held rates.</p>";
  it.content = "<p>The bank held rates at 4%.</p>";
  it.links.push_back(formats::link{"https://wire.example/1", "alternate", "text/html", {}, {}, {}});
  it.updated = formats::timestamp{1'796'205'600'000, 60};
  it.enclosures.push_back(formats::enclosure{"https://wire.example/1.mp3", "audio/mpeg", {}, 1234, {}});
  return it;
}

// ---- identity ----------------------------------------------------------------------------------

TEST(PollIdentity, GuidIsTheIdentity) {
  formats::item a = sample(), b = sample();
  b.links[0].href = "https://wire.example/moved";
  b.title = "Rates held (updated)";
  EXPECT_EQ(identify(a).id_hash, identify(b).id_hash);
  b.id = "tag:wire.example,2026:2";
  EXPECT_NE(identify(a).id_hash, identify(b).id_hash);
}

TEST(PollIdentity, WithoutGuidTheFirstAlternateLink) {
  formats::item a = sample();
  a.id.clear();
  a.links.insert(a.links.begin(), formats::link{"https://wire.example/related", "related", {}, {}, {}, {}});
  formats::item b = a;
  b.title = "Another title";
  b.content = "other text";
  EXPECT_EQ(identify(a).id_hash, identify(b).id_hash);  // same link: same item
  b.links[0].href = "https://wire.example/other-related";
  EXPECT_EQ(identify(a).id_hash, identify(b).id_hash);  // a related link is no identity
  b.links[1].href = "https://wire.example/2";
  EXPECT_NE(identify(a).id_hash, identify(b).id_hash);
}

TEST(PollIdentity, WithoutGuidOrLinkTheText) {
  formats::item a = sample();
  a.id.clear();
  a.links.clear();
  formats::item b = a;
  b.updated.reset();
  b.enclosures.clear();
  EXPECT_EQ(identify(a).id_hash, identify(b).id_hash);  // dates and enclosures are not the text
  for (auto edit : {+[](formats::item& i) { i.title += "!"; }, +[](formats::item& i) { i.content += "!"; },
                    +[](formats::item& i) { i.summary += "!"; }}) {
    formats::item c = a;
    edit(c);
    EXPECT_NE(identify(a).id_hash, identify(c).id_hash);
  }
  // Text moved from one field to another is another item.
  formats::item x, y;
  x.title = "ab";
  y.title = "a";
  y.content = "b";
  EXPECT_NE(identify(x).id_hash, identify(y).id_hash);
}

TEST(PollIdentity, TheKindIsPartOfTheHash) {
  formats::item by_guid, by_link;
  by_guid.id = "https://wire.example/1";
  by_link.links.push_back(formats::link{"https://wire.example/1", "alternate", {}, {}, {}, {}});
  EXPECT_NE(identify(by_guid).id_hash, identify(by_link).id_hash);
  formats::item by_text;
  by_text.title = "https://wire.example/1";
  EXPECT_NE(identify(by_text).id_hash, identify(by_link).id_hash);
  EXPECT_NE(identify(by_text).id_hash, identify(by_guid).id_hash);
}

// The store keeps keys made from these hashes: a change of algorithm would republish every
// item of every source after an upgrade. These values pin it (on every machine and build).
TEST(PollIdentity, HashesAreStable) {
  item_identity id = identify(sample());
  EXPECT_EQ(id.id_hash, 0x7f82ed8c186b8de7ull) << std::hex << id.id_hash;
  EXPECT_EQ(id.fingerprint, 0x33c98f48b1f3b135ull) << std::hex << id.fingerprint;
  formats::item empty;
  EXPECT_EQ(identify(empty).id_hash, 0x8bf4f84bcfa2441cull) << std::hex << identify(empty).id_hash;
}

// ---- fingerprint -------------------------------------------------------------------------------

TEST(PollIdentity, FingerprintChangesWithWhatAReaderSees) {
  const formats::item base = sample();
  const std::uint64_t fp = identify(base).fingerprint;
  std::vector<void (*)(formats::item&)> edits = {
      [](formats::item& i) { i.title = "Rates cut"; },
      [](formats::item& i) { i.content += " Markets rose."; },
      [](formats::item& i) { i.summary.clear(); },
      [](formats::item& i) { i.updated->unix_ms += 1000; },
      [](formats::item& i) { i.updated.reset(); },
      [](formats::item& i) { i.links[0].href = "https://wire.example/1?v=2"; },
      [](formats::item& i) { i.links.push_back(formats::link{"https://x.example/", "related", {}, {}, {}, {}}); },
      [](formats::item& i) { i.enclosures[0].url = "https://wire.example/1-fixed.mp3"; },
      [](formats::item& i) { i.enclosures[0].length = 4321; },
      [](formats::item& i) { i.enclosures.clear(); },
      [](formats::item& i) { i.title_type = formats::text_type::html; },
  };
  std::set<std::uint64_t> seen{fp};
  for (std::size_t k = 0; k < edits.size(); ++k) {
    formats::item changed = base;
    edits[k](changed);
    item_identity id = identify(changed);
    EXPECT_NE(id.fingerprint, fp) << "edit " << k;
    EXPECT_TRUE(seen.insert(id.fingerprint).second) << "edit " << k;
    EXPECT_EQ(id.id_hash, identify(base).id_hash) << "edit " << k;  // the same item, updated
  }
}

TEST(PollIdentity, FingerprintIgnoresWhatIsNotShownAsContent) {
  const formats::item base = sample();
  formats::item other = base;
  other.updated->offset_minutes = 0;  // the same instant written in another zone
  other.categories.push_back(formats::category{"Markets", {}, {}});
  other.authors.push_back(formats::person{"Jane", {}, {}});
  EXPECT_EQ(identify(other), identify(base));
}

TEST(PollIdentity, IdentitiesDoNotDependOnItemOrder) {
  const char* doc = R"(<rss version="2.0"><channel><title>t</title>
    <item><guid>a</guid><title>A</title></item>
    <item><link>https://x.example/b</link><title>B</title></item>
    <item><title>C</title><description>only text</description></item>
  </channel></rss>)";
  const char* reversed = R"(<rss version="2.0"><channel><title>t</title>
    <item><title>C</title><description>only text</description></item>
    <item><link>https://x.example/b</link><title>B</title></item>
    <item><guid>a</guid><title>A</title></item>
  </channel></rss>)";
  auto ids = [](const char* text) {
    formats::parse_result r = formats::parse(text);
    EXPECT_TRUE(r.value);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
    if (r.value)
      for (const auto& it : r.value->items) out.emplace_back(identify(it).id_hash, identify(it).fingerprint);
    std::sort(out.begin(), out.end());
    return out;
  };
  auto a = ids(doc), b = ids(reversed);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(std::set(a.begin(), a.end()).size(), 3u);
}

// ---- idempotency keys --------------------------------------------------------------------------

TEST(PollIdentity, IdempotencyKeyHasASpaceAndTheHashesInHex) {
  item_identity id{0x0123456789abcdefull, 0xfedcba9876543210ull};
  EXPECT_EQ(idempotency_key("src-1", id, false), "poll src-1 0123456789abcdef");
  EXPECT_EQ(idempotency_key("src-1", id, true), "poll src-1 0123456789abcdef fedcba9876543210");
  EXPECT_NE(idempotency_key("src-1", id, false).find(' '), std::string::npos);
  item_identity zero{};
  EXPECT_EQ(idempotency_key("a", zero, false), "poll a 0000000000000000");
  // Another source, another key, for the same item.
  EXPECT_NE(idempotency_key("src-2", id, false), idempotency_key("src-1", id, false));
}

}  // namespace
}  // namespace syndic::poll
