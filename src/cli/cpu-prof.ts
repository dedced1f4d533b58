// `agentcluster run --cpu-prof DIR`: a V8 CPU profile of every agent of the
// pool, written as DIR/agent-<threadId>.cpuprofile (open it in Chrome
// DevTools' Performance panel or any .cpuprofile viewer) when the run ends.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Agent } from '../agent/agent.js';
import type { AgentPool } from '../scheduler/index.js';

export class CpuProfiles {
  readonly #dir: string;
  readonly #started = new Map<Agent, Promise<void>>();

  constructor(dir: string) {
    this.#dir = resolve(dir);
    mkdirSync(this.#dir, { recursive: true });
  }

  /** Profiles the pool's live agents and every agent it starts later. */
  watch(pool: AgentPool): void {
    for (const agent of pool.agents) this.#start(agent);
    pool.on('agentCreate', (agent) => this.#start(agent));
  }

  /** Stops every profile and writes it; returns the files written, the agents lost meanwhile and the write errors. */
  async write(): Promise<{ files: string[]; lost: number; failed: string[] }> {
    const files: string[] = [];
    const failed: string[] = [];
    let lost = 0;
    for (const [agent, started] of this.#started) {
      let profile;
      try {
        await started;
        profile = await agent.stopCpuProfile();
      } catch {
        lost++; // the agent exited before the end of the run: its profile went with it
        continue;
      }
      const file = join(this.#dir, `agent-${agent.threadId}.cpuprofile`);
      try {
        writeFileSync(file, JSON.stringify(profile));
        files.push(file);
      } catch (error) {
        failed.push(`${file}: ${(error as Error).message}`); // e.g. a directory of that name
      }
    }
    this.#started.clear();
    return { files, lost, failed };
  }

  #start(agent: Agent): void {
    const started = agent.startCpuProfile();
    started.catch(() => {}); // reported by write()
    this.#started.set(agent, started);
  }
}
