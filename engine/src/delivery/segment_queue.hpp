#pragma once
// An outlet's queue of ready pairs, kept as the vectors they were submitted in. A submit
// hands the shard one vector per outlet; the queue adopts it as a segment, so that a pair is
// written to memory once, by the submitting thread, and never moved into another container.
// (A std::deque of pairs copied every pair again, into memory of the shard's own, which on a
// fresh process is a page fault per 25 pairs: measured with bench/delivery/count.sh, that
// copy was the largest part of syndic's page faults after the outlets' own state.)
//
// Allocates nothing while empty. pop_front() does not destroy the element: callers move it
// out first; a segment is freed, with whatever its elements still hold, once its last element
// is popped, so nothing is held for longer than the segment's last pair is queued.

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace syndic::engine::detail {

template <class T>
class segment_queue {
public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  T& front() { return first_->items[first_->head]; }

  void pop_front() {
    --size_;
    if (++first_->head == first_->items.size()) drop_first();
  }

  // Appends every element of `items`, adopting the vector itself.
  void append(std::vector<T>&& items) {
    if (items.empty()) return;
    size_ += items.size();
    auto s = std::make_unique<segment>();
    s->items = std::move(items);
    link_back(std::move(s));
  }

  void push_back(T&& v) {
    if (!last_) {
      std::vector<T> one;
      one.push_back(std::move(v));
      return append(std::move(one));
    }
    last_->items.push_back(std::move(v));
    ++size_;
  }

  // Into the slot the front element left, when there is one (a redirect puts its pair back
  // where it came from): no allocation then.
  void push_front(T&& v) {
    if (first_ && first_->head > 0) {
      first_->items[--first_->head] = std::move(v);
      ++size_;
      return;
    }
    std::vector<T> one;
    one.push_back(std::move(v));
    prepend(std::move(one));
  }

  // Puts every element of `items` before the current front, in their order.
  void prepend(std::vector<T>&& items) {
    if (items.empty()) return;
    size_ += items.size();
    auto s = std::make_unique<segment>();
    s->items = std::move(items);
    s->next = std::move(first_);
    if (!s->next) last_ = s.get();
    first_ = std::move(s);
  }

  void clear() {
    // Iteratively: a long chain of segments must not recurse in the destructors.
    while (first_) drop_first();
  }

  template <class F>
  void for_each(F f) {
    for (segment* s = first_.get(); s; s = s->next.get())
      for (std::size_t i = s->head; i < s->items.size(); ++i) f(s->items[i]);
  }

  segment_queue() = default;
  segment_queue(const segment_queue&) = delete;
  segment_queue& operator=(const segment_queue&) = delete;
  ~segment_queue() { clear(); }

private:
  struct segment {
    std::vector<T> items;
    std::size_t head = 0;  // items before it were popped
    std::unique_ptr<segment> next;
  };

  void link_back(std::unique_ptr<segment> s) {
    segment* raw = s.get();
    if (last_) last_->next = std::move(s);
    else first_ = std::move(s);
    last_ = raw;
  }

  void drop_first() {
    size_ -= first_->items.size() - first_->head;
    std::unique_ptr<segment> next = std::move(first_->next);
    first_ = std::move(next);
    if (!first_) last_ = nullptr;
  }

  std::unique_ptr<segment> first_;
  segment* last_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace syndic::engine::detail
