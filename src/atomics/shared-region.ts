/**
 * SharedRegion: what every agentcluster:atomics object has in common, so each
 * class file holds only its own protocol: the region of a SharedArrayBuffer it
 * lives in (placed and checked by `placeRegion`), an Int32Array view of it,
 * initialisation that re-attaching skips, and the `from()` re-attachment.
 *
 * `buffer` and `byteOffset` are the only own enumerable fields, so an object
 * sent with postMessage/structuredClone arrives as a plain SharedHandle
 * `{ buffer, byteOffset }`; the view is a #private field (never cloned) that
 * subclasses reach through the protected `words` accessor.
 */
import { attach, attaching } from './attach.js';
import { handleOf, placeRegion, type SharedHandle } from './wait.js';

/** Size and alignment of a region: a class's static `byteLength` and `alignment`. */
export interface RegionSize {
  readonly byteLength: number;
  readonly alignment: number;
}

export abstract class SharedRegion {
  /** Shared memory holding the state (cloned by reference by postMessage). */
  readonly buffer: SharedArrayBuffer;
  /** Offset of the state inside `buffer`. */
  readonly byteOffset: number;
  readonly #words: Int32Array;

  /**
   * Place the region of `what` (its name in error messages) in a new SAB or
   * at `byteOffset` of `buffer`, then run `init` on its words unless this
   * constructor was called from a `from()` (the memory then holds a live object).
   */
  protected constructor(
    what: string,
    size: RegionSize,
    buffer: SharedArrayBuffer | undefined,
    byteOffset: number,
    init?: (words: Int32Array) => void,
  ) {
    const at = placeRegion(what, buffer, byteOffset, size.byteLength, size.alignment);
    this.buffer = at.buffer;
    this.byteOffset = at.byteOffset;
    this.#words = new Int32Array(at.buffer, at.byteOffset, size.byteLength >> 2);
    if (init !== undefined && !attaching()) init(this.#words);
  }

  /** The region as Int32 words (the protocol's state). */
  protected get words(): Int32Array {
    return this.#words;
  }

  /**
   * The body of a static `from()`: check `cloned` (an instance or its
   * structured clone) against `size`, then run `make` (a constructor call) in
   * attach mode, so the constructor neither re-checks arguments nor resets the state.
   */
  protected static reattach<C>(
    what: string,
    size: RegionSize,
    cloned: SharedHandle,
    make: (buffer: SharedArrayBuffer, byteOffset: number) => C,
  ): C {
    const at = handleOf(what, cloned, size.byteLength, size.alignment);
    return attach(() => make(at.buffer, at.byteOffset));
  }
}
