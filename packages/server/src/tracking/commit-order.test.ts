import { expect, it } from 'vitest';
import { describeEngines } from '../testing/describe-engines.js';
import { makeWorkspace } from '../testing/factories.js';
import { newEvent } from '../testing/stored-events.js';
import { committedExactly, type EventCursor, eventsAfter } from './events.repo.js';
import { insertEvents } from './events-insert.repo.js';

describeEngines('events in commit order', (use) => {
  it('tells whether exactly so many events are committed between two positions', async () => {
    const { db, dialect } = use();
    const workspaceId = (await makeWorkspace(db)).id;
    const origin: EventCursor = { txid: '0', seq: 0 };
    const before = (await eventsAfter(db, dialect, origin, 100_000)).length;
    // Three commits of 1, 3 and 2 events.
    let sent = 0;
    for (const size of [1, 3, 2]) {
      await insertEvents(
        db,
        dialect,
        Array.from({ length: size }, () => newEvent(workspaceId, `m${++sent}`)),
      );
    }
    const stored = (await eventsAfter(db, dialect, origin, 100_000)).slice(before);
    expect(stored.map((e) => e.message_id)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    const positions = [
      stored[0] === undefined ? origin : { txid: stored[0].txid, seq: stored[0].seq - 1 },
      ...stored.map((e) => ({ txid: e.txid, seq: e.seq })),
    ];
    // Every pair of positions, with the true count and its neighbours.
    for (const [i, from] of positions.entries()) {
      for (const [j, to] of positions.entries()) {
        const between = Math.max(0, j - i);
        for (const count of [between - 1, between, between + 1, between + 5]) {
          if (count < 0) continue;
          expect(
            await committedExactly(db, dialect, from, to, count),
            `${count} between positions ${i} and ${j}`,
          ).toBe(count === between);
        }
      }
    }
  });
});
