// Connects an agent's isolate to Node's multi-isolate platform: V8 posts its
// foreground tasks (GC, Atomics.waitAsync resolution, ...) to our own task
// runner, which feeds the agent's mailbox instead of Node's event loop.
#pragma once

#include <node.h>
#include <v8.h>

#include <memory>

#include "agent/mailbox.h"
#include "shared/v8_compat.h"

namespace agentcluster {

class AgentTaskRunner final : public compat::TaskRunner {
 public:
  explicit AgentTaskRunner(std::shared_ptr<Mailbox> mailbox) : mailbox_(std::move(mailbox)) {}

  // IdleTasksEnabled() is false, so V8 never posts idle tasks; the agent loop
  // never runs tasks re-entrantly, so every task is non-nestable.
  bool IdleTasksEnabled() override { return false; }
  bool NonNestableTasksEnabled() const override { return true; }
  bool NonNestableDelayedTasksEnabled() const override { return true; }

 protected:
  void EnqueueTask(std::unique_ptr<v8::Task> task) override;
  void EnqueueDelayedTask(std::unique_ptr<v8::Task> task, double delay_in_seconds) override;

 private:
  // The mailbox outlives the agent: V8 background threads may still hold this
  // runner after the agent stopped, and their posts are then dropped.
  std::shared_ptr<Mailbox> mailbox_;
};

class AgentPlatformDelegate final : public node::IsolatePlatformDelegate {
 public:
  explicit AgentPlatformDelegate(std::shared_ptr<Mailbox> mailbox)
      : runner_(std::make_shared<AgentTaskRunner>(std::move(mailbox))) {}

  std::shared_ptr<v8::TaskRunner> GetForegroundTaskRunner() override { return runner_; }
  bool IdleTasksEnabled() override { return false; }

 private:
  std::shared_ptr<AgentTaskRunner> runner_;
};

}  // namespace agentcluster
