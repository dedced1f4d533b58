// `agentcluster test262 …`: the in-process parallel runner (test262/runner)
// driving the native test262 host in fresh agents.
import { main as runnerMain } from '../../test262/runner/cli.js';
import { AgentExecutor } from '../../test262/host/agent-executor.js';

export function main(argv: string[]): Promise<number> {
  return runnerMain(argv, new AgentExecutor());
}
