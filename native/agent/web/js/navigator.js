// navigator (WinterTC): hardwareConcurrency and userAgent only.
const kKey = Symbol('Navigator');
const { hardwareConcurrency } = natives;

class Navigator {
  constructor(key = undefined) {
    if (key !== kKey) throw new TypeError('Illegal constructor');
  }
  get hardwareConcurrency() { return hardwareConcurrency; }
  get userAgent() { return 'agentcluster'; }
}
Object.defineProperty(Navigator.prototype, Symbol.toStringTag, { value: 'Navigator', configurable: true });
for (const key of ['hardwareConcurrency', 'userAgent']) {
  Object.defineProperty(Navigator.prototype, key, { enumerable: true });
}

return { Navigator, navigator: new Navigator(kKey) };
