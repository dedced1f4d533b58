// The job pool on agents (issue 6): AgentPool and its types.
export { AgentPool } from './pool.js';
export type { AgentPoolEvents, AgentUsage, CloseOptions, PoolStats, RunOptions } from './pool.js';
export type { AgentPoolOptions, PoolResourceLimits } from './options.js';
export type { MapOptions } from './map.js';
export type { HistogramSummary } from './histogram.js';
export { PoolError } from './errors.js';
export type { PoolErrorCode } from './errors.js';
export { move, isMoved } from './move.js';
export type { Moved } from './move.js';
