// agentcluster/stress on the host: declare tests (define.ts, also what
// agents load), run them (run.ts), check histories (linearizability.ts).
export {
  litmus, linearizable, point, stress, StressError, isLitmusTest, isLinearizableTest,
  type FieldSpec, type FieldType, type Grade, type LitmusSpec, type LitmusTest, type LitmusState, type LitmusResult,
  type LinearizableSpec, type LinearizableTest, type SequentialModel,
} from './define.js';
export { runStressFiles, runStressTest, type RunOptions } from './run.js';
export { runLitmus, type LitmusOptions, type LitmusReport, type OutcomeCount } from './litmus-runner.js';
export {
  checkLinearizable, DEFAULT_CHECK_BUDGET, type HistoryOperation, type CheckResult, type CheckOptions,
} from './linearizability.js';
export { runLinearizable, type LinearizableOptions, type LinearizabilityReport } from './history-runner.js';
export { formatReport, isFailure, type StressReport } from './report.js';
export { loadTests, type FoundTest } from './load.js';
