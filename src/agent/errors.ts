// Typed errors of the Agent API. Every error carries a stable `code`.
import { describeValue } from '../options/limits.js';

export type AgentErrorCode =
  | 'ERR_AGENT_TERMINATED'
  | 'ERR_AGENT_CLOSED'
  | 'ERR_AGENT_OUT_OF_MEMORY'
  | 'ERR_AGENT_UNCAUGHT'
  | 'ERR_AGENT_WRONG_THREAD'
  | 'ERR_AGENT_INVALID_OPTION'
  | 'ERR_AGENT_START_FAILED'
  // The host bridge (src/agent/host-bridge.ts)
  | 'ERR_AGENT_BLOCKED'
  | 'ERR_AGENT_CANNOT_BLOCK'
  // Modules (src/modules/builtins.ts): a node: built-in reached from agent code
  | 'ERR_AGENT_NODE_BUILTIN'
  // Modules (native/agent/module_loader.cc): a computed import() outside the graph and moduleRoots
  | 'ERR_AGENT_MODULE_DENIED'
  // Diagnostics (src/agent/diagnostics.ts)
  | 'ERR_AGENT_PROFILE_ACTIVE'
  | 'ERR_AGENT_NO_PROFILE'
  | 'ERR_AGENT_SNAPSHOT_FAILED';

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  readonly agentName: string | undefined;

  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown; agentName?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentError';
    this.code = code;
    this.agentName = options?.agentName;
  }
}

/**
 * Native code throws plain Errors with a `code`; this turns one of ours
 * (ERR_AGENT_*) into an AgentError with the same code and message, and
 * returns anything else unchanged (e.g. a DataCloneError).
 */
export function asAgentError(error: unknown, agentName?: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof AgentError || !(error instanceof Error) || typeof code !== 'string' || !code.startsWith('ERR_AGENT_')) return error;
  return new AgentError(code as AgentErrorCode, error.message, { ...(agentName === undefined ? {} : { agentName }) });
}

/** `value`, when given, is shown in the message (`got ...`). */
export function invalidOption(name: string, expected: string, ...value: [unknown?]): AgentError {
  return new AgentError('ERR_AGENT_INVALID_OPTION', `The "${name}" option must be ${expected}${value.length > 0 ? `; got ${describeValue(value[0])}` : ''}`);
}

export function unknownOption(message: string): AgentError {
  return new AgentError('ERR_AGENT_INVALID_OPTION', message);
}
