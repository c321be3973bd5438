import type { SegmentMessage } from '@waymark/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../testing/engines.js';
import type { EventsToWrite, StoredFlags } from './event-writer.js';
import {
  type CommitPacing,
  createIngestion,
  ONE_COMMIT_AT_A_TIME,
  OVERLAPPED_COMMITS,
} from './ingest.js';

/** A request of `count` track calls, each naming its account (nothing is looked up). */
function request(name: string, count: number): SegmentMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'track',
    messageId: `${name}-${i}`,
    userId: 'ada',
    anonymousId: null,
    groupId: 'acme',
    event: 'Report Viewed',
    name: null,
    properties: {},
    traits: {},
    previousId: null,
    timestamp: Date.parse('2026-12-07T10:00:00.000Z'),
    originalTimestamp: null,
    sentAt: null,
    receivedAt: Date.parse('2026-12-07T10:00:00.000Z'),
    json: '{}',
  }));
}

/**
 * Sends requests at once through an ingestion whose writer commits only when told, and reports
 * each write's size and how many were under way at most.
 */
async function burst(database: TestDatabase, pacing: CommitPacing, sizes: number[]) {
  const writes: number[] = [];
  let underWay = 0;
  let mostUnderWay = 0;
  const pending: (() => void)[] = [];
  const ingestion = createIngestion({
    database,
    pacing,
    write: ({ batches }: EventsToWrite) =>
      new Promise<StoredFlags>((resolve) => {
        const calls = batches.reduce((sum, batch) => sum + batch.content.size, 0);
        writes.push(calls);
        underWay += 1;
        mostUnderWay = Math.max(mostUnderWay, underWay);
        pending.push(() => {
          underWay -= 1;
          resolve(new Uint8Array(calls).fill(1));
        });
      }),
  });
  const results = Promise.all(
    sizes.map((size, i) =>
      ingestion.ingest('workspace', request(`r${i}`, size), '2026-12-07T10:00:00.000Z'),
    ),
  );
  // Commits the oldest write once the ingestion has had two turns to start more.
  let done = false;
  void results.then(() => {
    done = true;
  });
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  while (!done) {
    await turn();
    await turn();
    pending.shift()?.();
  }
  return { writes, mostUnderWay, stored: (await results).map((r) => r.stored) };
}

describe('group commits, paced', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
  });
  afterAll(async () => database.drop());

  it('overlapped: at most two under way, each of whole requests within the bound', async () => {
    const sizes = [300, 300, 300, 300, 300, 1_000, 300, 300, 300];
    const { writes, mostUnderWay, stored } = await burst(database, OVERLAPPED_COMMITS, sizes);
    expect(stored).toEqual(sizes);
    expect(mostUnderWay).toBe(2);
    expect(writes.reduce((a, b) => a + b, 0)).toBe(sizes.reduce((a, b) => a + b, 0));
    // A request larger than the bound is a commit of its own; no other commit passes it.
    expect(writes).toContain(1_000);
    for (const size of writes) if (size !== 1_000) expect(size).toBeLessThanOrEqual(800);
  });

  it('one at a time: everything waiting joins the next commit', async () => {
    const sizes = [300, 300, 300, 300, 300, 1_000, 300, 300, 300];
    const { writes, mostUnderWay, stored } = await burst(database, ONE_COMMIT_AT_A_TIME, sizes);
    expect(stored).toEqual(sizes);
    expect(mostUnderWay).toBe(1);
    expect(writes).toEqual([sizes.reduce((a, b) => a + b, 0)]);
  });
});
