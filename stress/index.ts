// The scenarios `npm run stress` runs, in order.
import type { Scenario } from './lib/types.js';
import { atomicsModel } from './scenarios/atomics-model.js';
import { teardown } from './scenarios/teardown.js';
import { transferRaces } from './scenarios/transfer-races.js';

export const scenarios: Scenario[] = [transferRaces, atomicsModel, teardown];
