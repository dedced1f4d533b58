// The scenarios `npm run stress` runs, in order.
import type { Scenario } from './lib/types.js';
import { atomicsModel } from './scenarios/atomics-model.js';
import { cloneFuzz } from './scenarios/clone-fuzz.js';
import { floods } from './scenarios/floods.js';
import { memoryModelLitmus } from './scenarios/memory-model-litmus.js';
import { oomStorm } from './scenarios/oom-storm.js';
import { poolOverload } from './scenarios/pool-overload.js';
import { portLifecycle } from './scenarios/port-lifecycle.js';
import { reentrancy } from './scenarios/reentrancy.js';
import { liveAgents, messageStorm, spawnCycles } from './scenarios/storms.js';
import { teardown } from './scenarios/teardown.js';
import { teardownExit } from './scenarios/teardown-exit.js';
import { transferRaces } from './scenarios/transfer-races.js';

export const scenarios: Scenario[] = [transferRaces, portLifecycle, atomicsModel, memoryModelLitmus, teardown, teardownExit, reentrancy, messageStorm, spawnCycles, liveAgents, poolOverload, cloneFuzz, oomStorm, floods];
