// TypeScript for agents, as a load step of the host's graph: types are
// blanked out by ts-blank-space (built on TypeScript's own parser), which
// replaces them with spaces so every line and column of the .ts file stays
// where it was: errors and stacks in agents point at the file's own
// positions without source maps. (Node's own stripper, amaro, needs
// Node >= 22.) ts-blank-space is an ES module and the graph is built
// synchronously (inside `new Agent()`), so it runs in one helper thread of
// the host, asked synchronously through Atomics.wait; that thread is
// tooling for the host, never an agent.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

export interface Stripped {
  code: string;
  /** Syntax ts-blank-space cannot erase (enum, namespace, parameter properties...): the first one. */
  error?: { line: number; column: number; text: string };
}

const helperSource = `
const { workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData.flag);
const port = workerData.port;
const loaded = import(workerData.url);
port.on('message', async (source) => {
  let reply;
  try {
    const blank = (await loaded).default;
    let error;
    const code = blank(source, (node) => {
      if (error !== undefined) return;
      // Nodes come without parents: find the start past leading blanks and comments.
      let start = node.pos;
      for (;;) {
        const rest = source.slice(start);
        const skip = /^(\\s+|\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?\\*\\/)/.exec(rest);
        if (skip === null) break;
        start += skip[0].length;
      }
      const before = source.slice(0, start).split('\\n');
      error = { line: before.length, column: before[before.length - 1].length + 1, text: source.slice(start, node.end).split('\\n')[0].slice(0, 60) };
    });
    reply = { code, error };
  } catch (e) {
    reply = { failed: String(e && e.stack || e) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

let helper: { port: MessagePort; flag: Int32Array } | undefined;

function start(): { port: MessagePort; flag: Int32Array } {
  const url = pathToFileURL(createRequire(import.meta.url).resolve('ts-blank-space')).href;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(helperSource, { eval: true, workerData: { flag: flag.buffer, port: port2, url }, transferList: [port2] });
  worker.unref();
  port1.unref();
  return { port: port1, flag };
}

/** Types blanked out, positions kept; throws if the helper cannot run. */
export function stripTypes(source: string): Stripped {
  helper ??= start();
  const { port, flag } = helper;
  Atomics.store(flag, 0, 0);
  port.postMessage(source);
  // The first call also loads TypeScript's parser (about half a second).
  if (Atomics.wait(flag, 0, 0, 60_000) === 'timed-out') throw new Error('the TypeScript helper did not answer within 60 s');
  const reply = receiveMessageOnPort(port)?.message as (Stripped & { failed?: string }) | undefined;
  if (reply === undefined || reply.failed !== undefined) throw new Error(`the TypeScript helper failed: ${reply?.failed ?? 'no reply'}`);
  return reply;
}

export function isTypeScript(path: string): boolean {
  return /\.[cm]?ts$/.test(path) && !path.endsWith('.d.ts');
}
