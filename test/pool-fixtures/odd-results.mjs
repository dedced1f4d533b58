// Jobs returning values JSON cannot hold, for the `agentcluster run` result encoding (test/pool-cli.test.ts).
export default function (t) {
  switch (t.kind) {
    case 'bigint': return 10n ** 30n;
    case 'map': return new Map([[1, { a: 1n }]]);
    case 'u8': return new Uint8Array([1, 2, 3]);
    case 'nan': return [NaN, -0, Infinity, undefined];
    case 'undef': return undefined;
    case 'err': return { error: 'not a failure' };
    case 'tag': return { $type: 'bigint', value: '1' };
    case 'cycle': { const o = {}; o.self = o; return o; }
    case 'sparse': { const a = [1, , 3]; a.extra = 'x'; return a; }
    case 'date': return [new Date(0), new Date(NaN), /x/gi, new Set([1])];
    case 'throwbig': { const e = new Error('big'); e.code = 5n; throw e; }
    case 'longest': return 'a'.repeat(t.n); // JSON of it is V8's longest string
    default: return t;
  }
}
