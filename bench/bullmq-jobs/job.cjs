// The bench job for BullMQ's sandboxed processors (child process / worker
// thread). Same work as job.mjs.
module.exports = async function (job) {
  const { i, spinMs } = job.data;
  const end = performance.now() + spinMs;
  let x = i;
  while (performance.now() < end) x = (x * 1103515245 + 12345) % 2147483648;
  return { i, x };
};
