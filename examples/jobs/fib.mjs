// A deliberately slow, CPU-bound job: the naive recursive Fibonacci.
// A pool runs its default export in agents; the example also imports it to
// run it on the main thread for comparison. Plain JS, no imports: that is
// what runs inside an agent.
export default function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
