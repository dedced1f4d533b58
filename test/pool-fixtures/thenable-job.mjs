// A job module with an export named `then` that never calls its callbacks:
// its namespace is a thenable, so a plain `await import()` of it never settles.
export function then(onFulfilled, onRejected) {
  return 'then job ran';
}
export default function double(n) {
  return n * 2;
}
// Evaluated after the bootstrap set up the globals: agentData is the pool's data, move() exists.
export const loadedAt = agentData?.some === 'data' && typeof move === 'function' ? 'data seen at load' : 'loaded before the bootstrap';
export function sawDataAtLoad() {
  return loadedAt;
}
