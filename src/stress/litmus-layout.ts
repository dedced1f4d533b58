// The shared memory of a litmus run, sized from the test and the options
// before anything is allocated: per iteration, the state fields (8-byte
// aligned) and one result area per actor plus the arbiter. A result slot is
// 8 bytes (a Float64, or an exact BigInt64/BigUint64) and a 1-byte tag of
// which; an actor has as many slots as the widest declared outcome key has
// values (at least MIN_RESULT_WIDTH), so every field an outcome can name is
// graded, and more is an error, never a silent cut.
import { StressError, type FieldSpec, type LitmusTest } from './define.js';

/** Result slots per actor when no outcome key declares more. */
export const MIN_RESULT_WIDTH = 8;
/** The most shared memory (state + results) one litmus run may ask for: 256 MiB. */
export const MAX_LITMUS_SHARED_BYTES = 256 * 2 ** 20;
/** Bytes per result slot: the 8-byte value and its 1-byte kind tag. */
const SLOT_BYTES = 8 + 1;

export interface FieldLayout {
  name: string;
  type: string;
  length: number;
  /** Bytes from the start of the iteration's slot. */
  offset: number;
}

export interface LitmusLayout {
  fields: FieldLayout[];
  /** State bytes per iteration. */
  stride: number;
  /** Result slots per actor (and for the arbiter). */
  resultWidth: number;
  /** Shared bytes per iteration: state and every actor's (and the arbiter's) results. */
  bytesPerIteration: number;
}

/** Values in an outcome key ('0,1,1' has 3; '' has none). */
function valuesIn(key: string): number {
  return key === '' ? 0 : key.split(',').length;
}

export function litmusLayout(test: LitmusTest): LitmusLayout {
  let offset = 0;
  const fields = Object.entries(test.state as Record<string, FieldSpec>).map(([name, spec]) => {
    const type = typeof spec === 'function' ? spec : spec.type;
    const length = typeof spec === 'function' ? 1 : spec.length;
    const field = { name, type: type.name, length, offset };
    offset += Math.ceil((length * type.BYTES_PER_ELEMENT) / 8) * 8;
    return field;
  });
  // One actor may produce every value of a key (the others none): the widest key bounds each actor's fields.
  // A loop, not Math.max(...spread): a test may declare more outcome keys than the call stack holds arguments.
  let resultWidth = MIN_RESULT_WIDTH;
  for (const key of Object.keys(test.outcomes)) resultWidth = Math.max(resultWidth, valuesIn(key));
  const areas = test.actors.length + 1;
  return { fields, stride: offset, resultWidth, bytesPerIteration: offset + areas * resultWidth * SLOT_BYTES };
}

/** Checks batch × bytes per iteration against MAX_LITMUS_SHARED_BYTES before allocating; returns the total. */
export function checkLitmusMemory(testName: string, layout: LitmusLayout, batch: number): number {
  const total = layout.bytesPerIteration * batch;
  if (total <= MAX_LITMUS_SHARED_BYTES) return total;
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const fits = Math.floor(MAX_LITMUS_SHARED_BYTES / layout.bytesPerIteration);
  const advice = fits >= 1 ? `use batch ${fits} or less` : 'one iteration alone is over it: declare smaller state fields or fewer outcome values';
  throw new StressError(
    'ERR_STRESS_INVALID_OPTION',
    `${testName}: batch ${batch} x ${layout.bytesPerIteration.toLocaleString('en-US')} bytes of state and results per iteration ` +
      `is ${mib(total)} of shared memory, over the ${mib(MAX_LITMUS_SHARED_BYTES)} cap; ${advice}`,
  );
}
