/** What `Atomics.waitAsync` returns (ES2024, beyond the ES2023 library this project types). */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
  timeoutMs: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * SQLite's write lock, taken by the threads of one process before SQLite's own: a thread that
 * finds it held waits for a wake-up without blocking its event loop, where SQLite's busy
 * handler would put the whole thread to sleep, by steps of up to 100 ms. Other processes
 * (the command line) still meet SQLite's lock and its busy timeout.
 */
export class WriteLock {
  readonly #state: Int32Array;

  /** A new lock, or the lock another thread shares through `buffer`. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.#state = new Int32Array(buffer);
  }

  async acquire(): Promise<void> {
    while (Atomics.compareExchange(this.#state, 0, 0, 1) !== 0) {
      const wait = waitAsync(this.#state, 0, 1, 1000);
      if (wait.async) await wait.value;
    }
  }

  release(): void {
    Atomics.store(this.#state, 0, 0);
    Atomics.notify(this.#state, 0, 1);
  }
}
