import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NewEvent } from './events.repo.js';
import { packEvents, unpackEvents } from './packed-events.js';

/** Few values, so that columns repeat as a commit's do; texts of any characters. */
const oneOf = <T>(values: fc.Arbitrary<T>) => fc.array(values, { minLength: 1, maxLength: 4 });

const commits = fc
  .record({
    workspaces: oneOf(fc.uuid()),
    names: oneOf(fc.option(fc.string(), { nil: null })),
    accounts: oneOf(fc.option(fc.string(), { nil: null })),
    users: oneOf(fc.option(fc.string({ unit: 'grapheme' }), { nil: null })),
    count: fc.nat({ max: 60 }),
  })
  .chain(({ workspaces, names, accounts, users, count }) =>
    fc.array(
      fc.record<NewEvent>({
        workspace_id: fc.constantFrom(...workspaces),
        message_id: fc.string({ unit: 'grapheme' }),
        type: fc.constantFrom('track', 'page', 'group', 'identify'),
        event: fc.constantFrom(...names),
        account_key: fc.constantFrom(...accounts),
        user_id: fc.constantFrom(...users),
        anonymous_id: fc.option(fc.string(), { nil: null }),
        timestamp: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        received_at: fc.constantFrom('2026-12-07T10:00:00.000Z', '2026-12-07T10:00:00.001Z'),
        payload: fc.json(),
      }),
      { minLength: count, maxLength: count },
    ),
  );

describe('a group commit packed for the tracking thread', () => {
  it('arrives as the same events, in the same order, through a structured clone', () => {
    fc.assert(
      fc.property(commits, (events) => {
        expect(unpackEvents(structuredClone(packEvents(events)))).toEqual(events);
      }),
    );
  });

  it('sends each repeated value once', () => {
    const event: NewEvent = {
      workspace_id: 'w',
      message_id: 'm',
      type: 'track',
      event: 'Report Viewed',
      account_key: 'acme',
      user_id: 'ada',
      anonymous_id: null,
      timestamp: '2026-12-07T10:00:00.000Z',
      received_at: '2026-12-07T10:00:00.000Z',
      payload: '{"type":"track"}',
    };
    const packed = packEvents(
      Array.from({ length: 100 }, (_, i) => ({ ...event, message_id: `m${i}` })),
    );
    for (const column of Object.values(packed.repeated)) expect(column.values).toHaveLength(1);
    expect(packed.payloads).toBe(event.payload.repeat(100));
  });
});
