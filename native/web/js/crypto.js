// crypto.getRandomValues and crypto.randomUUID (WebCrypto), from the OS
// CSPRNG (native/web/random.cc). No crypto.subtle.
const { DOMException } = require('domexception');
const { fillRandom, randomUUID: uuid } = natives;

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

return { Crypto, crypto: new Crypto(kKey) };
