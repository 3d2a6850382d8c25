#include "store/progress_model.hpp"

#include <algorithm>
#include <stdexcept>

namespace syndic::engine::progress {

// ---- exception_log ------------------------------------------------------------------------

template <class Entry>
void exception_log<Entry>::erase(seq_t first, seq_t last) {
  written_.erase(written_.lower_bound(first), written_.upper_bound(last));
  if (!in_db_) return;  // nothing stored: what the round wrote is all there is
  if (db_ids_) {
    // Known rows: a span that meets none needs no statement.
    auto lo = db_ids_->lower_bound(first), hi = db_ids_->upper_bound(last);
    if (lo == hi) return;
    db_ids_->erase(lo, hi);
  }
  deleted_.push_back({first, last});
}

template <class Entry>
std::vector<std::pair<seq_t, std::string>> exception_log<Entry>::existing() const {
  if (!complete()) throw std::logic_error("progress model: the stored dead letters were not loaded");
  std::map<seq_t, std::string> all;
  if (db_ids_) all = *db_ids_;
  for (const auto& [seq, e] : written_) all[seq] = e.delivery_id;
  return {all.begin(), all.end()};
}

template <class Entry>
std::optional<std::string> exception_log<Entry>::find(seq_t seq) const {
  if (auto it = written_.find(seq); it != written_.end()) return it->second.delivery_id;
  if (!complete()) throw std::logic_error("progress model: the stored dead letters were not loaded");
  if (db_ids_) {
    if (auto it = db_ids_->find(seq); it != db_ids_->end()) return it->second;
  }
  return std::nullopt;
}

template <class Entry>
exception_changes<Entry> exception_log<Entry>::changes() const {
  exception_changes<Entry> c;
  std::vector<seq_range> spans = deleted_;
  std::sort(spans.begin(), spans.end(),
            [](const seq_range& a, const seq_range& b) { return a.first < b.first; });
  for (const seq_range& s : spans) {
    // Merge overlapping and adjacent spans: deletions commute (all run before the writes).
    if (!c.deleted.empty() && s.first <= c.deleted.back().last + (c.deleted.back().last < last_seq ? 1 : 0)) {
      c.deleted.back().last = std::max(c.deleted.back().last, s.last);
    } else {
      c.deleted.push_back(s);
    }
  }
  c.written.reserve(written_.size());
  for (const auto& [seq, e] : written_) c.written.push_back(e);
  return c;
}

template class exception_log<retry_entry>;
template class exception_log<dead_letter>;

// ---- outlet_model -------------------------------------------------------------------------

outlet_model::outlet_model(snapshot s)
    : stored_(s.stored.has_value()),
      exists_(stored_),
      row_(s.stored.value_or(row{})),
      retries_(s.has_retries, std::nullopt),
      dead_(s.has_dead, std::move(s.dead_ids)) {
  for (const seq_range& r : s.ranges) loaded_ranges_[r.first] = r.last;
  ranges_ = loaded_ranges_;
}

std::vector<seq_range> outlet_model::ranges() const {
  std::vector<seq_range> v;
  v.reserve(ranges_.size());
  for (const auto& [f, l] : ranges_) v.push_back({f, l});
  return v;
}

void outlet_model::resolve(seq_t first, seq_t last) {
  if (!exists_) {
    exists_ = dirty_ = true;  // an outlet without progress counts as cursor 0
  }
  if (last <= row_.cursor) return;
  first = std::max(first, row_.cursor + 1);
  if (first == row_.cursor + 1) {
    row_.cursor = last;
    dirty_ = true;
    // Swallow every range that now starts at or below cursor + 1 (ranges are disjoint and
    // not adjacent, so after the first pass nothing new can start at the new cursor + 1; the
    // loop is only a guard).
    while (!ranges_.empty() && ranges_.begin()->first <= row_.cursor + 1) {
      row_.cursor = std::max(row_.cursor, ranges_.begin()->second);
      ranges_.erase(ranges_.begin());
    }
    return;
  }
  // A gap below: record [first, last], merged with the ranges it touches or overlaps.
  seq_t lo = first, hi = last;
  auto it = ranges_.upper_bound(last + 1);  // the first range starting past last + 1
  while (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second + 1 < first) break;  // disjoint: every earlier one ends lower still
    lo = std::min(lo, prev->first);
    hi = std::max(hi, prev->second);
    it = ranges_.erase(prev);
  }
  ranges_[lo] = hi;
}

void outlet_model::unresolve(seq_t seq) {
  if (seq <= row_.cursor) return;
  auto it = ranges_.upper_bound(seq);
  if (it == ranges_.begin()) return;
  --it;
  const seq_t first = it->first, last = it->second;
  if (last < seq) return;  // not in a range
  ranges_.erase(it);
  if (first < seq) ranges_[first] = seq - 1;
  if (seq < last) ranges_[seq + 1] = last;
}

void outlet_model::start(seq_t cursor) {
  if (exists_) return;
  exists_ = dirty_ = true;
  row_.cursor = cursor;
}

void outlet_model::done(seq_t first, seq_t last) {
  if (last == 0) last = first;
  retries_.erase(first, last);
  dead_.erase(first, last);
  resolve(first, last);
}

void outlet_model::retry(const retry_entry& r, std::string_view error, store_time now) {
  retries_.put(r);
  unresolve(r.seq);
  exists_ = dirty_ = true;
  if (!error.empty()) {
    row_.last_error = std::string(error);
    row_.last_error_at = now;
  }
}

void outlet_model::dead(const dead_letter& d) {
  retries_.erase(d.seq, d.seq);
  dead_.put(d);
  row_.last_error = d.error;
  row_.last_error_at = d.at;
  dirty_ = true;
  resolve(d.seq, d.seq);
}

void outlet_model::set_circuit(const circuit_state& c) {
  row_.circuit = c;
  exists_ = dirty_ = true;
}

void outlet_model::replay(seq_t from) {
  ranges_.clear();
  retries_.erase(from, last_seq);
  dead_.erase(from, last_seq);
  row_.cursor = from - 1;
  exists_ = dirty_ = true;
}

void outlet_model::retry_dead(const std::vector<seq_t>& seqs, store_time next_attempt) {
  if (!dead_.maybe_any()) return;
  std::vector<std::pair<seq_t, std::string>> moved;
  if (seqs.empty()) {
    moved = dead_.existing();
  } else {
    for (seq_t s : seqs) {
      if (auto id = dead_.find(s)) moved.emplace_back(s, std::move(*id));  // twice: harmless
    }
  }
  for (auto& [seq, id] : moved) {
    retries_.put(retry_entry{seq, 0, next_attempt, std::move(id)});
    dead_.erase(seq, seq);
    unresolve(seq);
  }
}

void outlet_model::drop_dead(const std::vector<seq_t>& seqs) {
  if (seqs.empty()) {
    dead_.erase(0, last_seq);
    return;
  }
  for (seq_t s : seqs) dead_.erase(s, s);
}

void outlet_model::forget() {
  // Everything goes; ops after this one in the round start from nothing (SQLite's "gone").
  retries_.erase(0, last_seq);
  dead_.erase(0, last_seq);
  ranges_.clear();
  row_ = row{};
  exists_ = dirty_ = false;
}

changes outlet_model::diff() const {
  changes c;
  if (exists_ && dirty_) {
    c.row_op = changes::row_change::write;
    c.row_value = row_;
  } else if (!exists_ && stored_) {
    c.row_op = changes::row_change::erase;
  }
  for (const auto& [f, l] : loaded_ranges_) {
    if (!ranges_.count(f)) c.ranges_deleted.push_back(f);
  }
  for (const auto& [f, l] : ranges_) {
    auto it = loaded_ranges_.find(f);
    if (it == loaded_ranges_.end() || it->second != l) c.ranges_written.push_back({f, l});
  }
  c.retries = retries_.changes();
  c.dead = dead_.changes();
  return c;
}

}  // namespace syndic::engine::progress
