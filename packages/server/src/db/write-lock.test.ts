import { describe, expect, it } from 'vitest';
import { WriteLock } from './write-lock.js';

describe('the write lock', () => {
  it('is held by one holder at a time, shared through its buffer, and wakes the next', async () => {
    const mine = new WriteLock();
    const theirs = new WriteLock(mine.buffer);
    await mine.acquire();
    let taken = false;
    const waiting = theirs.acquire().then(() => {
      taken = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(taken).toBe(false);
    mine.release();
    await waiting;
    expect(taken).toBe(true);
    theirs.release();
    await mine.acquire(); // free again
    mine.release();
  });
});
