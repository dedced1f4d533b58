// Jobs that use the agentcluster:atomics objects a task carries.
import { Mutex } from 'agentcluster:atomics';

// A deliberately racy read-modify-write, made safe by the mutex it is given.
export default function lockedIncrement({ mutex, counter }) {
  const m = Mutex.from(mutex);
  const view = new Int32Array(counter);
  m.lock();
  try {
    const value = view[0];
    for (let spin = 0; spin < 2000; spin++);
    view[0] = value + 1;
  } finally {
    m.unlock();
  }
  return view[0];
}
