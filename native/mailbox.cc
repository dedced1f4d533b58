#include "mailbox.h"

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
