export function inc(x: number): number;
export function rendezvous(task: { sab: SharedArrayBuffer; n: number }): number;
export function work(iterations: number): number;
