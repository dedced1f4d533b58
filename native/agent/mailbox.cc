#include "agent/mailbox.h"

#include <algorithm>

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
    if (timer_armed_ && timer_due_ <= now) {
      timer_armed_ = false;
      ready_.push_back(WorkItem{timer_job_, nullptr});
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
    if (delayed_.empty() && !timer_armed_) {
      cv_.wait(lock);
    } else {
      Clock::time_point until = timer_armed_ ? timer_due_ : delayed_.top().due;
      if (!delayed_.empty()) until = std::min(until, delayed_.top().due);
      cv_.wait_until(lock, until);
    }
  }
}

void Mailbox::ArmTimer(Clock::time_point due, std::function<void(AgentRuntime&)> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    bool sooner = !timer_armed_ || due < timer_due_;
    timer_armed_ = true;
    timer_due_ = due;
    if (!timer_job_) timer_job_ = std::move(job);
    if (!sooner) return;  // Next() already waits no longer than this
  }
  cv_.notify_one();
}

void Mailbox::DisarmTimer() {
  std::lock_guard<std::mutex> lock(mutex_);
  timer_armed_ = false;
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
    timer_armed_ = false;
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
