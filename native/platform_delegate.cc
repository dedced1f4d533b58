#include "platform_delegate.h"

namespace agentcluster {

void AgentTaskRunner::PostTask(std::unique_ptr<v8::Task> task) {
  mailbox_->Post(WorkItem{nullptr, std::move(task)});
}

// The agent loop never runs tasks re-entrantly, so every task is non-nestable.
void AgentTaskRunner::PostNonNestableTask(std::unique_ptr<v8::Task> task) {
  PostTask(std::move(task));
}

void AgentTaskRunner::PostDelayedTask(std::unique_ptr<v8::Task> task, double delay_in_seconds) {
  mailbox_->PostDelayed(WorkItem{nullptr, std::move(task)}, delay_in_seconds);
}

void AgentTaskRunner::PostNonNestableDelayedTask(std::unique_ptr<v8::Task> task,
                                                 double delay_in_seconds) {
  PostDelayedTask(std::move(task), delay_in_seconds);
}

void AgentTaskRunner::PostIdleTask(std::unique_ptr<v8::IdleTask>) {
  // IdleTasksEnabled() is false, so V8 never posts idle tasks.
}

}  // namespace agentcluster
