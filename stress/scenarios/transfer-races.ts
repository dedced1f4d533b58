// Transfer/detach races: ArrayBuffers ("tokens", each stamped with its id and
// a fill pattern) hop around a ring of agents joined by AgentChannels, back
// to the host and in again, while the host and the agents try to transfer
// the same buffer twice (back to back, or twice in one transfer list), agents
// are terminated with tokens in flight to and from them, and tokens are sent
// to ports whose peer just died.
//
// Checked: a buffer is detached right after every send that did not throw and
// intact after every send that threw; no token is ever owned twice (every id
// comes back at most once and, with no agent killed, exactly once); every
// token that arrives has its size and pattern (no use-after-free of a backing
// store); between two live agents no port message is lost.
import { AgentChannel, type Agent, type AgentPort } from '../../src/index.js';
import { RNG_SOURCE } from '../lib/rng.js';
import { iterate } from '../lib/loop.js';
import type { Scenario, StressContext } from '../lib/types.js';
import { delay, describeError, nextMessage, tick, within } from '../lib/util.js';

const MAGIC = 0x70a1e5ed;

const TOKEN_SOURCE = String.raw`
const MAGIC = ${MAGIC};
const fillOf = (id) => (Math.imul(id, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
function makeToken(id, size) {
  const buf = new ArrayBuffer(size);
  const u32 = new Uint32Array(buf);
  u32.fill(fillOf(id));
  u32[0] = MAGIC; u32[1] = id; u32[2] = size;
  return buf;
}
/** '' if buf is token id intact, else what is wrong. */
function checkToken(id, buf) {
  if (!(buf instanceof ArrayBuffer)) return 'not an ArrayBuffer';
  if (buf.byteLength < 16) return 'byteLength ' + buf.byteLength + ' (detached?)';
  const u32 = new Uint32Array(buf);
  if (u32[0] !== MAGIC || u32[1] !== id || u32[2] !== buf.byteLength) return 'bad header ' + [u32[0], u32[1], u32[2]] + ' for id ' + id + ', byteLength ' + buf.byteLength;
  const fill = fillOf(id);
  const n = u32.length;
  const step = Math.max(1, Math.floor(n / 61));
  for (let i = 3; i < n; i += step) if (u32[i] !== fill) return 'pattern broken at word ' + i;
  if (u32[n - 1] !== fill) return 'pattern broken at the last word';
  return '';
}
`;

// Evaluated in the host too, so both sides share one definition.
const tokenLib = new Function(`${TOKEN_SOURCE}; return { makeToken, checkToken };`)() as {
  makeToken(id: number, size: number): ArrayBuffer;
  checkToken(id: number, buf: unknown): string;
};

const agentSource = `${RNG_SOURCE}
${TOKEN_SOURCE}
let next = null, prev = null, hostPort = null, rng = null, index = -1, maxHops = 8;
let stopped = false, sentOnNext = 0, receivedOnPrev = 0;
const held = new Map();
const violation = (message) => postMessage({ type: 'violation', message: name + ': ' + message });

function expectDetached(buf, what) {
  if (buf.byteLength !== 0) violation(what + ' returned but the buffer was not detached (byteLength ' + buf.byteLength + ')');
}
function expectIntact(id, buf, what) {
  const problem = checkToken(id, buf);
  if (problem) violation(what + ' threw but left the buffer changed: ' + problem);
}
function hold(id, buf, hops) { held.set(id, { buf, hops }); }
function sendHost(id, buf, hops) {
  postMessage({ type: 'token', id, buf, hops }, [buf]);
  expectDetached(buf, 'postMessage to the host');
}
let nextClosed = false;
function sendPort(id, buf, hops) {
  let ok;
  try {
    ok = next.postMessage({ id, buf, hops }, [buf]);
  } catch (e) {
    // Allowed only once the next agent died (its close event reached us): the buffer must still be ours.
    if (!nextClosed) violation('port.postMessage threw before any close event: ' + e);
    expectIntact(id, buf, 'port.postMessage');
    return sendHost(id, buf, hops);
  }
  expectDetached(buf, 'port.postMessage');
  if (ok) sentOnNext++;
  else postMessage({ type: 'dropped', id, why: 'next port closed' });
}
function route(id, buf, hops) {
  if (stopped) return hold(id, buf, hops);
  if (hops >= maxHops) return sendHost(id, buf, hops);
  const r = rng.float();
  if (r < 0.15) {
    hold(id, buf, hops);
    setTimeout(() => {
      const entry = held.get(id);
      if (entry && entry.buf === buf && !stopped) { held.delete(id); route(id, buf, hops + 1); }
    }, rng.int(0, 3));
    return;
  }
  if (r < 0.25) {
    // The same buffer twice in one transfer list: must throw before anything is detached.
    try {
      postMessage({ type: 'token', id, buf, hops }, [buf, buf]);
      violation('a transfer list naming one buffer twice was accepted');
      return;
    } catch (e) {
      if (!e || e.name !== 'DataCloneError') violation('duplicate transfer threw ' + (e && e.name) + ' instead of DataCloneError');
    }
    expectIntact(id, buf, 'postMessage with a duplicate transfer list');
  } else if (r < 0.4) {
    // Transferred from two places: first to the next agent, then (already detached) to the host.
    sendPort(id, buf, hops + 1);
    try {
      postMessage({ type: 'token', id, buf, hops }, [buf]);
      violation('a second transfer of an already transferred buffer succeeded');
    } catch (e) {
      if (!e || e.name !== 'DataCloneError') violation('second transfer threw ' + (e && e.name) + ' instead of DataCloneError');
    }
    return;
  }
  if (rng.chance(0.75)) sendPort(id, buf, hops + 1);
  else sendHost(id, buf, hops + 1);
}
function receive(id, buf, hops, from) {
  const problem = checkToken(id, buf);
  if (problem) { violation('token ' + id + ' from ' + from + ': ' + problem); return; }
  route(id, buf, hops);
}
onmessage = (e) => {
  const m = e.data;
  switch (m.type) {
    case 'init':
      next = m.next; prev = m.prev; hostPort = m.hostPort; index = m.index; maxHops = m.maxHops; rng = makeRng(m.seed);
      next.onclose = () => { nextClosed = true; };
      prev.onmessage = (ev) => { receivedOnPrev++; receive(ev.data.id, ev.data.buf, ev.data.hops, 'prev'); };
      hostPort.onmessage = (ev) => receive(ev.data.id, ev.data.buf, ev.data.hops, 'hostPort');
      postMessage({ type: 'ready' });
      break;
    case 'token': receive(m.id, m.buf, m.hops, 'host'); break;
    case 'stop': stopped = true; postMessage({ type: 'counts', sentOnNext, receivedOnPrev, seq: m.seq }); break;
    case 'counts': postMessage({ type: 'counts', sentOnNext, receivedOnPrev, seq: m.seq }); break;
    case 'collect': {
      const items = [], transfer = [];
      for (const [id, { buf }] of held) { items.push({ id, buf }); transfer.push(buf); }
      held.clear();
      postMessage({ type: 'collected', items }, transfer);
      break;
    }
  }
};
`;

interface Counts {
  type: 'counts';
  sentOnNext: number;
  receivedOnPrev: number;
  seq: number;
}

export const transferRaces: Scenario = {
  name: 'transfer-races',
  description: 'tokens hop a ring of agents; double transfers, terminate with transfers in flight, sends to ports whose peer died; no double ownership',
  async run(ctx: StressContext) {
    let tokensMoved = 0;
    let killed = 0;
    let lostToKills = 0;
    const result = await iterate(ctx, async ({ rng, seed }) => {
      const n = rng.int(2, 5);
      const tokenCount = rng.int(4, 24);
      const maxHops = rng.int(2, 30);
      const agents: Agent[] = [];
      const alive: boolean[] = [];
      const terminating = new Set<number>();
      const kill = (i: number): Promise<unknown> => {
        terminating.add(i);
        return agents[i]!.terminate();
      };
      const hostHeld = new Map<number, ArrayBuffer>();
      const everInjected = new Set<number>();
      let drops = 0;
      const lostOnThrow = new Set<number>();
      let kills = 0;
      const ring = Array.from({ length: n }, () => new AgentChannel());
      const hostPorts: AgentPort[] = [];
      const closed: boolean[] = [];
      for (let i = 0; i < n; i++) {
        const agent = ctx.spawn({ name: `ring-${i}`, source: agentSource });
        agents.push(agent);
        alive.push(true);
        closed.push(false);
        const index = i;
        void agent.exited.then(() => (alive[index] = false));
        agent.on('error', (error) => ctx.check(false, `ring-${index} failed: ${describeError(error)}`));
        agent.on('message', (m: { type: string; id: number; buf: ArrayBuffer; message: string; items: { id: number; buf: ArrayBuffer }[] }) => {
          if (m.type === 'violation') ctx.check(false, m.message);
          else if (m.type === 'dropped') drops++;
          else if (m.type === 'token') takeBack(m.id, m.buf, `ring-${index}`);
          else if (m.type === 'collected') for (const item of m.items) takeBack(item.id, item.buf, `ring-${index} (collect)`);
        });
        const hostChannel = new AgentChannel();
        hostPorts.push(hostChannel.port1);
        hostChannel.port1.onclose = () => (closed[index] = true);
        const next = ring[i]!.port1;
        const prev = ring[(i + n - 1) % n]!.port2;
        agent.postMessage({ type: 'init', next, prev, hostPort: hostChannel.port2, index: i, maxHops, seed: seed + i }, [next, prev, hostChannel.port2]);
      }
      const takeBack = (id: number, buf: ArrayBuffer, from: string) => {
        tokensMoved++;
        const problem = tokenLib.checkToken(id, buf);
        if (!ctx.check(problem === '', `token ${id} from ${from}: ${problem}`)) return;
        const previous = hostHeld.get(id);
        ctx.check(previous === undefined || previous.byteLength === 0, `token ${id} owned twice: the host already holds it and ${from} sent it again`);
        hostHeld.set(id, buf);
      };
      await within(Promise.all(agents.map((a) => nextMessage(a, 10_000, (m) => (m as { type: string }).type === 'ready'))), 15_000, 'ring agents to start');

      const send = (id: number, buf: ArrayBuffer, target: number, via: 'post' | 'port') => {
        const agent = agents[target]!;
        try {
          if (via === 'post') {
            agent.postMessage({ type: 'token', id, buf, hops: 0 }, [buf]);
          } else {
            const ok = hostPorts[target]!.postMessage({ id, buf, hops: 0 }, [buf]);
            if (!ok) drops++;
          }
          ctx.check(buf.byteLength === 0, `host ${via} to ring-${target} returned but the buffer is not detached`);
          return true;
        } catch (error) {
          // Only an agent being terminated may refuse (postMessage throws ERR_AGENT_*, a closed port a
          // TypeError); a send that threw must leave the buffer with us, intact.
          ctx.check(terminating.has(target), `host ${via} to live ring-${target} threw ${describeError(error)}`);
          const problem = tokenLib.checkToken(id, buf);
          ctx.check(problem === '', `host ${via} to a terminating agent threw (${describeError(error)}) yet the buffer is gone: ${problem}`);
          // Kept (intact) or, if the check above failed, lost; either way not sent.
          if (problem !== '') lostOnThrow.add(id);
          return false;
        }
      };

      // Inject tokens while killing agents at random moments.
      const killAt = new Set<number>();
      const killCount = rng.chance(0.3) ? 1 : 0;
      let killBudget = rng.int(0, Math.max(1, n - 1));
      const mayKill = (i: number) => alive[i] && !terminating.has(i) && killBudget-- > 0;
      while (killAt.size < killCount) killAt.add(rng.int(0, tokenCount - 1));
      for (let id = 1; id <= tokenCount; id++) {
        const size = rng.chance(0.1) ? rng.int(1 << 20, 4 << 20) & ~3 : rng.int(4, 16384) * 4;
        const buf = tokenLib.makeToken(id, size);
        everInjected.add(id);
        const target = rng.int(0, n - 1);
        const how = rng.weighted<'post' | 'port' | 'double' | 'kill-in-flight' | 'dead-port'>([
          [5, 'post'],
          [2, 'port'],
          [2, 'double'],
          [1, 'kill-in-flight'],
          [1, 'dead-port'],
        ]);
        if (how === 'double') {
          // The same buffer to two agents back to back: the second must throw and the first receiver owns it.
          const other = (target + 1) % n;
          const first = send(id, buf, target, 'post');
          try {
            agents[other]!.postMessage({ type: 'token', id, buf, hops: 0 }, [buf]);
            ctx.check(!first, `a buffer already transferred to ring-${target} was transferred again to ring-${other}`);
          } catch (error) {
            const name = (error as { name?: string }).name;
            ctx.check(name === 'DataCloneError' || (error as { code?: string }).code?.startsWith('ERR_AGENT_'), `second transfer threw ${describeError(error)}, expected a DataCloneError`);
          }
          if (!first && !lostOnThrow.has(id)) hostHeld.set(id, buf);
        } else if (how === 'kill-in-flight') {
          const sent = send(id, buf, target, rng.chance(0.5) ? 'post' : 'port');
          if (!sent && !lostOnThrow.has(id)) hostHeld.set(id, buf);
          if (mayKill(target)) {
            kills++;
            void kill(target);
          }
        } else if (how === 'dead-port') {
          // Kill the agent, then send on the port whose peer it held.
          if (mayKill(target)) {
            kills++;
            const exited = kill(target);
            if (rng.chance(0.5)) await exited;
          }
          try {
            const ok = hostPorts[target]!.postMessage({ id, buf, hops: 0 }, [buf]);
            ctx.check(buf.byteLength === 0, `port.postMessage to a dead peer returned ${ok} but did not detach the buffer`);
            if (!ok) drops++;
          } catch (error) {
            // A port whose close event was delivered refuses to send: the buffer must stay ours.
            ctx.check(terminating.has(target), `host port to live ring-${target} threw ${describeError(error)}`);
            const problem = tokenLib.checkToken(id, buf);
            ctx.check(problem === '', `port.postMessage to a dead peer threw (${describeError(error)}) yet the buffer is gone: ${problem}`);
            if (problem === '') hostHeld.set(id, buf);
          }
        } else if (!send(id, buf, target, how) && !lostOnThrow.has(id)) {
          hostHeld.set(id, buf);
        }
        if (killAt.has(id - 1)) {
          const victim = rng.int(0, n - 1);
          if (mayKill(victim)) {
            kills++;
            void kill(victim);
          }
        }
        if (rng.chance(0.3)) await tick();
        if (rng.chance(0.1)) await delay(rng.int(0, 3));
        // Re-inject a returned token now and then.
        if (rng.chance(0.2) && hostHeld.size > 0) {
          const [rid, rbuf] = [...hostHeld.entries()][rng.int(0, hostHeld.size - 1)]!;
          if (rbuf.byteLength > 0) {
            const t = rng.int(0, n - 1);
            if (send(rid, rbuf, t, rng.chance(0.7) ? 'post' : 'port')) hostHeld.delete(rid);
          }
        }
      }
      await delay(rng.int(0, 30));

      // Quiesce: stop routing, then wait until every port between two live agents delivered all it carried.
      let seq = 0;
      const counts = async (type: 'stop' | 'counts'): Promise<Map<number, Counts>> => {
        const s = ++seq;
        const replies = new Map<number, Counts>();
        await Promise.all(
          agents.map(async (agent, i) => {
            if (!alive[i] || agent.state === 'exited') return;
            try {
              const reply = nextMessage<Counts>(agent, 10_000, (m) => (m as Counts).type === 'counts' && (m as Counts).seq === s);
              reply.catch(() => {});
              agent.postMessage({ type, seq: s });
              replies.set(i, await reply);
            } catch {
              // died meanwhile
            }
          }),
        );
        return replies;
      };
      await counts('stop');
      let settled = false;
      let last = '';
      for (let round = 0; round < 200 && !settled; round++) {
        const c = await counts('counts');
        settled = true;
        for (let i = 0; i < n; i++) {
          const j = (i + 1) % n;
          const a = c.get(i);
          const b = c.get(j);
          if (a === undefined || b === undefined || !alive[i] || !alive[j]) continue;
          if (a.sentOnNext !== b.receivedOnPrev) {
            settled = false;
            last = `ring-${i} sent ${a.sentOnNext} on its port, ring-${j} received ${b.receivedOnPrev}`;
          }
        }
        if (!settled) await delay(10);
      }
      ctx.check(settled, `port messages between live agents never all arrived: ${last}`);

      // Collect everything the live agents hold.
      await Promise.all(
        agents.map(async (agent, i) => {
          if (!alive[i] || agent.state === 'exited') return;
          try {
            const reply = nextMessage(agent, 10_000, (m) => (m as { type: string }).type === 'collected');
            reply.catch(() => {});
            agent.postMessage({ type: 'collect' });
            await reply;
          } catch {
            // died meanwhile
          }
        }),
      );
      const owned = [...hostHeld.entries()].filter(([, buf]) => buf.byteLength > 0).map(([id]) => id);
      const missing = [...everInjected].filter((id) => !owned.includes(id));
      if (kills === 0 && drops === 0) {
        ctx.check(missing.length === 0, `no agent was killed, yet token(s) ${missing.join(', ')} never came back`);
      }
      lostToKills += missing.length;
      killed += kills;
      await Promise.all(agents.map((agent) => agent.terminate()));
      // Each agent held the peer of one host port: every one of those ports hears 'close'.
      for (let waited = 0; closed.includes(false) && waited < 5000; waited += 10) await delay(10);
      ctx.check(!closed.includes(false), `host ports of ended agents got no 'close' event: ${closed.map((c, i) => (c ? '' : `ring-${i}`)).filter(Boolean).join(', ')}`);
      for (const port of hostPorts) port.close();
    });
    result.stats = { tokensMoved, agentsKilled: killed, tokensLostWithKilledAgents: lostToKills };
    return result;
  },
};
