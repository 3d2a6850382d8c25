#pragma once
// How many items one delivered request carries, so that a sink counts items and not only
// requests when the sender batches.

#include <cstdint>
#include <string_view>

namespace syndic::testkit::detail {

// A feed body (RSS, Atom, JSON Feed) carries its items; a webhook envelope the items of the
// JSON Feed in its `data`. Anything else (an empty body, a single-event payload, JSON that
// is no feed) counts as one item.
std::uint64_t count_items(std::string_view body);

}  // namespace syndic::testkit::detail
