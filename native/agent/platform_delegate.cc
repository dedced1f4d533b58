#include "agent/platform_delegate.h"

namespace agentcluster {

void AgentTaskRunner::EnqueueTask(std::unique_ptr<v8::Task> task) {
  mailbox_->Post(WorkItem{nullptr, std::move(task)});
}

void AgentTaskRunner::EnqueueDelayedTask(std::unique_ptr<v8::Task> task, double delay_in_seconds) {
  mailbox_->PostDelayed(WorkItem{nullptr, std::move(task)}, delay_in_seconds);
}

}  // namespace agentcluster
