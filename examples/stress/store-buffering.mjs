// Store buffering with plain accesses: each actor writes its flag, then reads
// the other's. 0,0 needs both reads to pass both writes, which x86's store
// buffer allows and the ECMAScript memory model permits for plain accesses.
import { litmus } from 'agentcluster/stress';

export default litmus({
  name: 'store buffering, plain accesses',
  state: { x: Int32Array, y: Int32Array },
  actors: [
    (s, r) => { s.x[0] = 1; r.r1 = s.y[0]; },
    (s, r) => { s.y[0] = 1; r.r2 = s.x[0]; },
  ],
  outcomes: { '0,0': 'interesting', '1,0': 'ok', '0,1': 'ok', '1,1': 'ok' },
});
