/**
 * Commits of the ingestion whose events are on their way to the tracking, counted in memory
 * the threads share. While one is, the tracking waits for its events to be handed over instead
 * of reading back what it finds committed: between a commit and its hand-over, the events are
 * in the database already, and reading them back costs the tracking more than taking them.
 */
export class HandsOnTheWay {
  readonly #count: Int32Array;

  /** A new count, or the count another thread shares through `buffer`. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.#count = new Int32Array(buffer);
  }

  /**
   * A commit begins whose events will be handed over: returns what to call once they are, or
   * once the commit failed (calling it again does nothing).
   */
  expect(): () => void {
    Atomics.add(this.#count, 0, 1);
    let arrived = false;
    return () => {
      if (arrived) return;
      arrived = true;
      Atomics.sub(this.#count, 0, 1);
    };
  }

  get any(): boolean {
    return Atomics.load(this.#count, 0) > 0;
  }
}
