// crypto.getRandomValues and crypto.randomUUID (WebCrypto), from the OS
// CSPRNG (native/agent/web/random.cc), and crypto.subtle with digest only
// (native/agent/web/digest.cc).
const { DOMException } = require('domexception');
const { fillRandom, randomUUID: uuid, digest } = natives;

const kKey = Symbol('Crypto');

class Crypto {
  constructor(key = undefined) {
    if (key !== kKey) throw new TypeError('Illegal constructor');
  }

  getRandomValues(array) {
    if (!(this instanceof Crypto)) throw new TypeError('Illegal invocation');
    if (!ArrayBuffer.isView(array)) {
      throw new TypeError('The "array" argument must be an integer-typed TypedArray');
    }
    const status = fillRandom(array);
    if (status === 1) {
      throw new DOMException('The data argument must be an integer-type TypedArray', 'TypeMismatchError');
    }
    if (status === 2) {
      throw new DOMException(`The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`, 'QuotaExceededError');
    }
    if (status !== 0) throw new DOMException('The operating system random source failed', 'OperationError');
    return array;
  }

  randomUUID() {
    if (!(this instanceof Crypto)) throw new TypeError('Illegal invocation');
    return uuid();
  }
}
Object.defineProperty(Crypto.prototype, Symbol.toStringTag, { value: 'Crypto', configurable: true });
for (const key of ['getRandomValues', 'randomUUID']) {
  Object.defineProperty(Crypto.prototype, key, { enumerable: true });
}

const algorithms = new Map([['sha-1', 0], ['sha-256', 1], ['sha-384', 2], ['sha-512', 3]]);
const abLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
function isArrayBuffer(value) {
  try { abLength.call(value); return true; } catch { return false; }
}

class SubtleCrypto {
  constructor(key = undefined) {
    if (key !== kKey) throw new TypeError('Illegal constructor');
  }

  // Async as in WebCrypto; the hash runs at once on the data as passed
  // (the spec copies it first: same result).
  async digest(algorithm, data) {
    if (!(this instanceof SubtleCrypto)) throw new TypeError('Illegal invocation');
    // WebIDL (object or DOMString): anything but an object is a name.
    let name;
    if (algorithm !== null && typeof algorithm === 'object') {
      if (algorithm.name === undefined) throw new TypeError('The algorithm object needs a name');
      name = `${algorithm.name}`;
    } else {
      name = `${algorithm}`;
    }
    const index = algorithms.get(name.toLowerCase());
    if (index === undefined) throw new DOMException(`Unrecognized algorithm name: ${name}`, 'NotSupportedError');
    if (!ArrayBuffer.isView(data) && !isArrayBuffer(data)) {
      throw new TypeError('The "data" argument must be an ArrayBuffer or an ArrayBufferView');
    }
    return digest(index, data);
  }
}
Object.defineProperty(SubtleCrypto.prototype, Symbol.toStringTag, { value: 'SubtleCrypto', configurable: true });
Object.defineProperty(SubtleCrypto.prototype, 'digest', { enumerable: true });

const subtle = new SubtleCrypto(kKey);
Object.defineProperty(Crypto.prototype, 'subtle', {
  enumerable: true,
  configurable: true,
  get() {
    if (!(this instanceof Crypto)) throw new TypeError('Illegal invocation');
    return subtle;
  },
});

return { Crypto, SubtleCrypto, crypto: new Crypto(kKey) };
