// The scenarios `npm run stress` runs, in order.
import type { Scenario } from './lib/types.js';
import { atomicsModel } from './scenarios/atomics-model.js';
import { reentrancy } from './scenarios/reentrancy.js';
import { teardown } from './scenarios/teardown.js';
import { teardownExit } from './scenarios/teardown-exit.js';
import { transferRaces } from './scenarios/transfer-races.js';

export const scenarios: Scenario[] = [transferRaces, atomicsModel, teardown, teardownExit, reentrancy];
