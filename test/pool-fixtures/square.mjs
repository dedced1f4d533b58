// Job of the CLI test: squares a number, rejects anything else.
export default function square(task) {
  if (typeof task.n !== 'number') throw new TypeError('n must be a number');
  return { n: task.n, square: task.n * task.n };
}
