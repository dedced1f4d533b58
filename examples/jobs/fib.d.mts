export default function fib(n: number): number;
