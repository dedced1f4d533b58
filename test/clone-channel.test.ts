// Issue 3, channels between agents: `new AgentChannel()` gives two ports; a
// port transferred to an agent lets two agents talk without the host; a port
// whose peer dies reports it instead of hanging. (AgentChannel landed while
// this battery was written: a short smoke test, not a full battery.)
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentChannel } from '../src/index.js';
import { nextMessage, within } from './support/waits.js';
import { spawnAgent, terminateAll } from './support/agents.js';

after(terminateAll);

describe('AgentChannel', () => {
  it('two agents exchange messages directly over a transferred pair of ports', async () => {
    const { port1, port2 } = new AgentChannel();
    const ping = spawnAgent({ source: 'onmessage = ({ data }) => { data.port.onmessage = (e) => postMessage("ping got " + e.data); data.port.postMessage("hello from ping"); };' });
    const pong = spawnAgent({ source: 'onmessage = ({ data }) => { data.port.onmessage = (e) => { postMessage("pong got " + e.data); data.port.postMessage("hello from pong"); }; };' });
    const fromPong = nextMessage(pong);
    const fromPing = nextMessage(ping);
    pong.postMessage({ port: port2 }, [port2 as unknown as ArrayBuffer]);
    ping.postMessage({ port: port1 }, [port1 as unknown as ArrayBuffer]);
    assert.equal(await fromPong, 'pong got hello from ping');
    assert.equal(await fromPing, 'ping got hello from pong');
  });

  it('a port whose peer agent was terminated reports it instead of hanging', async () => {
    const { port1, port2 } = new AgentChannel();
    const a = spawnAgent({ source: 'onmessage = ({ data }) => { data.port.onclose = () => postMessage("peer lost"); postMessage("armed"); };' });
    const b = spawnAgent({ source: 'onmessage = () => postMessage("holding");' });
    const armed = nextMessage(a);
    a.postMessage({ port: port1 }, [port1 as unknown as ArrayBuffer]);
    assert.equal(await armed, 'armed');
    const holding = nextMessage(b);
    b.postMessage({ port: port2 }, [port2 as unknown as ArrayBuffer]);
    assert.equal(await holding, 'holding');
    const report = nextMessage(a);
    await b.terminate();
    assert.equal(await within(report, 10_000, 'the lost-peer report'), 'peer lost');
  });
});
