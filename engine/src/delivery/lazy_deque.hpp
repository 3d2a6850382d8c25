#pragma once
// A deque that allocates nothing until its first element. libstdc++'s std::deque allocates
// its map and a 512-byte block when constructed: for 100,000 idle outlets, a third of their
// memory held by empty queues.

#include <deque>
#include <memory>

namespace syndic::engine::detail {

template <class T>
class lazy_deque {
public:
  bool empty() const { return !q_ || q_->empty(); }
  std::size_t size() const { return q_ ? q_->size() : 0; }
  T& front() { return q_->front(); }
  void pop_front() { q_->pop_front(); }
  // Rvalues only: a queued delivery is moved in once (by value it was moved twice).
  void push_back(T&& v) { get().push_back(std::move(v)); }
  void push_front(T&& v) { get().push_front(std::move(v)); }
  template <class It>
  void prepend(It first, It last) { get().insert(get().begin(), first, last); }
  void clear() { q_.reset(); }
  template <class F>
  void for_each(F f) {
    if (q_)
      for (T& x : *q_) f(x);
  }

private:
  std::deque<T>& get() {
    if (!q_) q_ = std::make_unique<std::deque<T>>();
    return *q_;
  }
  std::unique_ptr<std::deque<T>> q_;
};

}  // namespace syndic::engine::detail
