// A source's state as kept in the store (kv "poll.state"): one small JSON object per source,
// written after every poll. A damaged value is dropped (the source starts afresh: one full
// fetch, whose items the store's idempotency keys dedup), never trusted halfway.

#include "cli/json_string.hpp"
#include "poll/poller_impl.hpp"

#include <simdjson.h>

namespace syndic::poll {

namespace {

std::int64_t to_ms(sys_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
sys_time from_ms(std::int64_t ms) { return sys_time(std::chrono::milliseconds(ms)); }

void put_string(std::string& out, std::string_view key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":";
  out += cli::json_string(value);
  out += ',';
}
void put_number(std::string& out, std::string_view key, std::int64_t value) {
  out += '"';
  out += key;
  out += "\":";
  out += std::to_string(value);
  out += ',';
}

}  // namespace

std::string encode_state(const stored_state& s) {
  std::string out = "{";
  put_number(out, "v", 1);
  if (!s.url.empty()) put_string(out, "url", s.url);
  if (!s.defined_url.empty()) put_string(out, "defined_url", s.defined_url);
  if (!s.etag.empty()) put_string(out, "etag", s.etag);
  if (!s.last_modified.empty()) put_string(out, "last_modified", s.last_modified);
  // As text: a 64-bit value does not survive a double.
  if (s.body_hash) put_string(out, "body_hash", std::to_string(s.body_hash));
  put_number(out, "interval", s.sched.interval.count());
  if (s.sched.items_per_hour >= 0)
    put_number(out, "items_per_hour_milli", static_cast<std::int64_t>(s.sched.items_per_hour * 1000));
  put_number(out, "errors_in_a_row", s.sched.consecutive_errors);
  if (s.sched.skip_hours) put_number(out, "skip_hours", s.sched.skip_hours);
  if (s.sched.skip_days) put_number(out, "skip_days", s.sched.skip_days);
  if (s.sched.last_new_item) put_number(out, "sched_last_new_item", to_ms(*s.sched.last_new_item));
  if (s.next_poll) put_number(out, "next_poll", to_ms(*s.next_poll));
  if (s.last_poll) put_number(out, "last_poll", to_ms(*s.last_poll));
  if (s.last_new_item) put_number(out, "last_new_item", to_ms(*s.last_new_item));
  put_number(out, "last_status", s.last_status);
  if (!s.last_error.empty()) put_string(out, "last_error", s.last_error);
  if (s.gone) put_number(out, "gone", 1);
  if (!s.hub.empty()) put_string(out, "hub", s.hub);
  if (!s.topic.empty()) put_string(out, "topic", s.topic);
  put_number(out, "polls", static_cast<std::int64_t>(s.polls));
  put_number(out, "not_modified", static_cast<std::int64_t>(s.not_modified));
  put_number(out, "unchanged", static_cast<std::int64_t>(s.unchanged));
  put_number(out, "changed", static_cast<std::int64_t>(s.changed));
  put_number(out, "new_items", static_cast<std::int64_t>(s.new_items));
  put_number(out, "error_count", static_cast<std::int64_t>(s.errors));
  out.back() = '}';
  return out;
}

bool decode_state(std::string_view json, stored_state& s) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(json.data(), json.size()).get_object().get(obj)) return false;
  stored_state out;
  for (auto field : obj) {
    std::string_view k = field.key;
    auto text = [&](std::string& into) {
      std::string_view v;
      if (!field.value.get_string().get(v)) into = std::string(v);
    };
    auto number = [&]() -> std::int64_t {
      std::int64_t v = 0;
      if (field.value.get_int64().get(v)) return 0;
      return v;
    };
    if (k == "url") text(out.url);
    else if (k == "defined_url") text(out.defined_url);
    else if (k == "etag") text(out.etag);
    else if (k == "last_modified") text(out.last_modified);
    else if (k == "body_hash") {
      std::string v;
      text(v);
      out.body_hash = std::strtoull(v.c_str(), nullptr, 10);
    } else if (k == "interval") out.sched.interval = seconds(std::max<std::int64_t>(number(), 0));
    else if (k == "items_per_hour_milli") out.sched.items_per_hour = static_cast<double>(number()) / 1000;
    else if (k == "errors_in_a_row") out.sched.consecutive_errors = static_cast<std::uint32_t>(std::clamp<std::int64_t>(number(), 0, 1 << 20));
    else if (k == "skip_hours") out.sched.skip_hours = static_cast<std::uint32_t>(number()) & 0xFFFFFFu;
    else if (k == "skip_days") out.sched.skip_days = static_cast<std::uint8_t>(number() & 0x7F);
    else if (k == "sched_last_new_item") out.sched.last_new_item = from_ms(number());
    else if (k == "next_poll") out.next_poll = from_ms(number());
    else if (k == "last_poll") out.last_poll = from_ms(number());
    else if (k == "last_new_item") out.last_new_item = from_ms(number());
    else if (k == "last_status") out.last_status = static_cast<std::uint16_t>(std::clamp<std::int64_t>(number(), 0, 999));
    else if (k == "last_error") text(out.last_error);
    else if (k == "gone") out.gone = number() != 0;
    else if (k == "hub") text(out.hub);
    else if (k == "topic") text(out.topic);
    else if (k == "polls") out.polls = static_cast<std::uint64_t>(number());
    else if (k == "not_modified") out.not_modified = static_cast<std::uint64_t>(number());
    else if (k == "unchanged") out.unchanged = static_cast<std::uint64_t>(number());
    else if (k == "changed") out.changed = static_cast<std::uint64_t>(number());
    else if (k == "new_items") out.new_items = static_cast<std::uint64_t>(number());
    else if (k == "error_count") out.errors = static_cast<std::uint64_t>(number());
  }
  s = std::move(out);
  return true;
}

}  // namespace syndic::poll
