#include "mailbox.h"

namespace agentcluster {

bool Mailbox::Post(WorkItem item) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    ready_.push_back(std::move(item));
  }
  cv_.notify_one();
  return true;
}

Mailbox::PostResult Mailbox::PostCounted(WorkItem item) {
  bool full;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return PostResult::kRefused;
    item.counted = true;
    counted_messages_++;
    counted_bytes_ += item.weight;
    full = mark_.Reached(counted_messages_, counted_bytes_);
    if (full) full_ = true;
    ready_.push_back(std::move(item));
  }
  cv_.notify_one();
  return full ? PostResult::kFull : PostResult::kAccepted;
}

void Mailbox::SetFlowControl(HighWaterMark mark, std::function<void()> on_drain) {
  std::lock_guard<std::mutex> lock(mutex_);
  mark_ = mark;
  on_drain_ = std::move(on_drain);
}

size_t Mailbox::buffered_messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counted_messages_;
}

size_t Mailbox::buffered_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counted_bytes_;
}

bool Mailbox::PostDelayed(WorkItem item, double delay_seconds) {
  if (delay_seconds < 0) delay_seconds = 0;
  auto due = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(delay_seconds));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    delayed_.push(Delayed{due, seq_++, std::make_shared<WorkItem>(std::move(item))});
  }
  cv_.notify_one();
  return true;
}

bool Mailbox::Next(WorkItem* out) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (closed_) return false;
    auto now = Clock::now();
    while (!delayed_.empty() && delayed_.top().due <= now) {
      ready_.push_back(std::move(*delayed_.top().item));
      delayed_.pop();
    }
    if (!ready_.empty()) {
      *out = std::move(ready_.front());
      ready_.pop_front();
      if (out->counted) {
        counted_messages_--;
        counted_bytes_ -= out->weight;
        if (full_ && mark_.Drained(counted_messages_, counted_bytes_)) {
          full_ = false;
          std::function<void()> on_drain = on_drain_;
          lock.unlock();
          if (on_drain) on_drain();
        }
      }
      return true;
    }
    if (woken_) {
      woken_ = false;
      return false;
    }
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, delayed_.top().due);
    }
  }
}

void Mailbox::Wake() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  cv_.notify_one();
}

void Mailbox::Close() {
  std::deque<WorkItem> ready;
  decltype(delayed_) delayed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    counted_messages_ = 0;
    counted_bytes_ = 0;
    on_drain_ = nullptr;  // drops what it captured
    ready.swap(ready_);
    delayed.swap(delayed_);
  }
  cv_.notify_all();
  // `ready` and `delayed` are destroyed here, outside the lock.
}

bool Mailbox::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

}  // namespace agentcluster
