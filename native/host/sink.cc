#include "host/sink.h"

#include <utility>

namespace agentcluster {

void AgentHandle::Sink::Deliver(AgentEvent event) {
  bool schedule;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;  // the owner finished: nobody will read it
    queued_bytes_ += event.weight();
    events_.push_back(std::move(event));
    schedule = !scheduled_;
    scheduled_ = true;
  }
  if (schedule) {
    std::shared_ptr<Sink> self = self_.lock();
    if (self) {
      wakeup_.NonBlockingCall([self](Napi::Env env, Napi::Function) {
        GuardNativeCallback([&] {
          if (static_cast<napi_env>(env) != nullptr && self->handle_ != nullptr) {
            self->handle_->DrainEvents(env);
          }
        });
      });
    }
  }
}

bool AgentHandle::Sink::WaitForRoom() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (mark_.Reached(events_.size(), queued_bytes_)) {
    cv_.wait(lock, [&] {
      return woken_ || closed_ || mark_.Drained(events_.size(), queued_bytes_);
    });
  }
  return !woken_ && !closed_;
}

void AgentHandle::Sink::WakeBlocked() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

void AgentHandle::Sink::Close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    events_.clear();
    queued_bytes_ = 0;
  }
  cv_.notify_all();
}

std::vector<AgentEvent> AgentHandle::Sink::Take(bool* more) {
  std::vector<AgentEvent> taken;
  bool wake_senders = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t bytes = 0;
    while (!events_.empty() && taken.size() < kMaxEventsPerDrain &&
           (taken.empty() || bytes + events_.front().weight() <= kMaxBytesPerDrain)) {
      size_t weight = events_.front().weight();
      bytes += weight;
      queued_bytes_ -= weight;
      taken.push_back(std::move(events_.front()));
      events_.pop_front();
    }
    *more = !events_.empty();
    if (!*more) scheduled_ = false;
    wake_senders = !taken.empty() && mark_.Drained(events_.size(), queued_bytes_);
  }
  if (wake_senders) cv_.notify_all();
  return taken;
}

}  // namespace agentcluster
