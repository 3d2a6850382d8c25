#pragma once
// A deque that allocates nothing until its first element. libstdc++'s std::deque allocates
// its map and a 512-byte block when constructed: per origin and per host, queues that are
// nearly always empty were a kilobyte and more of each outlet's memory, and of the page
// faults a fresh process takes for it.

#include <deque>
#include <memory>
#include <utility>

namespace syndic::engine::http {

template <class T>
class lazy_deque {
public:
  bool empty() const { return !q_ || q_->empty(); }
  std::size_t size() const { return q_ ? q_->size() : 0; }
  T& front() { return q_->front(); }
  void pop_front() { q_->pop_front(); }
  void push_back(T&& v) { get().push_back(std::move(v)); }
  void clear() { q_.reset(); }
  // The elements, and the queue left empty.
  std::deque<T> take() { return q_ ? std::move(*std::exchange(q_, nullptr)) : std::deque<T>(); }
  // For algorithms over the elements; null while nothing was ever queued.
  std::deque<T>* get_if() { return q_.get(); }

private:
  std::deque<T>& get() {
    if (!q_) q_ = std::make_unique<std::deque<T>>();
    return *q_;
  }
  std::unique_ptr<std::deque<T>> q_;
};

}  // namespace syndic::engine::http
