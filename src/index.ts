export { Agent } from './agent/agent.js';
export type { AgentEvents, AgentFailure, ConsoleLevel, ExitInfo, ExitReason } from './agent/agent.js';
export type { AgentOptions, ResourceLimits } from './agent/options.js';
export { AgentError } from './agent/errors.js';
export type { AgentErrorCode } from './agent/errors.js';
export { liveAgentCount } from './agent/exit-hook.js';
export { clone } from './clone/index.js';
export type { CloneOptions } from './clone/index.js';
