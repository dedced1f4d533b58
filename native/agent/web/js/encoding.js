// TextEncoder and TextDecoder (Encoding Standard), UTF-8 only; the byte
// work is native (native/agent/web/encoding.cc).
const { utf8Encode, utf8EncodeInto, utf8Decode } = natives;

const FATAL = 1, IGNORE_BOM = 2, STREAM = 4;

class TextEncoder {
  get encoding() { return 'utf-8'; }

  encode(input = '') {
    return utf8Encode(`${input}`);
  }

  encodeInto(source, destination) {
    if (!(destination instanceof Uint8Array)) {
      throw new TypeError('The "destination" argument must be a Uint8Array');
    }
    const result = new Uint32Array(2);
    utf8EncodeInto(`${source}`, destination, result);
    return { read: result[0], written: result[1] };
  }
}
Object.defineProperty(TextEncoder.prototype, Symbol.toStringTag, { value: 'TextEncoder', configurable: true });
for (const key of ['encoding', 'encode', 'encodeInto']) {
  Object.defineProperty(TextEncoder.prototype, key, { enumerable: true });
}

// The Encoding Standard's labels of UTF-8 (the only encoding here).
const utf8Labels = new Set(['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8']);

class TextDecoder {
  #flags;
  #state = new Uint32Array(5);

  constructor(label = 'utf-8', options = undefined) {
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('The "options" argument must be an object');
    }
    const name = `${label}`.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toLowerCase();
    if (!utf8Labels.has(name)) {
      throw new RangeError(`The "${label}" encoding is not supported`);
    }
    this.#flags = (options?.fatal ? FATAL : 0) | (options?.ignoreBOM ? IGNORE_BOM : 0);
  }

  get encoding() { return 'utf-8'; }
  get fatal() { return (this.#flags & FATAL) !== 0; }
  get ignoreBOM() { return (this.#flags & IGNORE_BOM) !== 0; }

  decode(input = undefined, options = undefined) {
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new TypeError('The "options" argument must be an object');
    }
    const stream = options?.stream ? STREAM : 0;
    if (input === undefined || input === null) input = empty;
    else if (!ArrayBuffer.isView(input) && !isBuffer(input)) {
      throw new TypeError('The "input" argument must be an ArrayBuffer, a SharedArrayBuffer or an ArrayBufferView');
    }
    return utf8Decode(input, this.#flags | stream, this.#state);
  }
}
Object.defineProperty(TextDecoder.prototype, Symbol.toStringTag, { value: 'TextDecoder', configurable: true });
for (const key of ['encoding', 'fatal', 'ignoreBOM', 'decode']) {
  Object.defineProperty(TextDecoder.prototype, key, { enumerable: true });
}

const empty = new Uint8Array(0);
const abLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
const sabLength = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength').get;
function isBuffer(value) {
  try { abLength.call(value); return true; } catch {}
  try { sabLength.call(value); return true; } catch {}
  return false;
}

return { TextEncoder, TextDecoder };
