// The bench job for an AgentWorker (runs in an agent). Same work as job.cjs.
export default function (job) {
  return work(job.data);
}
function work({ i, spinMs }) {
  const end = performance.now() + spinMs;
  let x = i;
  while (performance.now() < end) x = (x * 1103515245 + 12345) % 2147483648;
  return { i, x };
}
