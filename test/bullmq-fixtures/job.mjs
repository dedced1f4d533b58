// Job code for the AgentWorker tests: runs inside agents (no Node APIs).
export default async function (job) {
  switch (job.name) {
    case 'square':
      return { i: job.data.i, square: job.data.i * job.data.i };
    case 'busy': {
      // Holds the agent for data.ms of CPU.
      const end = performance.now() + job.data.ms;
      while (performance.now() < end);
      return { i: job.data.i };
    }
    case 'progress':
      for (const p of [25, 50, 75]) await job.updateProgress(p);
      await job.log('half way and more');
      await job.updateProgress({ done: true });
      return 'reported';
    case 'oom': {
      const keep = [];
      for (;;) keep.push(new Array(1e5).fill(keep.length));
    }
    case 'spin':
      for (;;);
    case 'throw': {
      const error = new RangeError('bad input ' + job.data.i);
      error.code = 'E_BAD_INPUT';
      throw error;
    }
    case 'flood':
      // A burst of progress calls without awaiting: only the latest matters.
      for (let i = 1; i <= job.data.n; i++) job.updateProgress(i);
      return 'flooded';
    case 'unclonable':
      // Runs once, then returns what structured clone refuses.
      await job.log('ran');
      return () => 'a function';
    default:
      throw new Error('unknown job ' + job.name);
  }
}
