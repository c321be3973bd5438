import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type MessageFault,
  parseSegmentBatch,
  parseSegmentCall,
  SEGMENT_CALL_TYPES,
  SEGMENT_LIMITS,
  type SegmentCallType,
  type SegmentMessage,
  writeKeyInBody,
} from './segment-message.js';

const RECEIVED = Date.UTC(2026, 10, 24, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();
const TIME_FAULT = 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-24T10:00:00Z';
const NUL_FAULT = 'must not contain the character U+0000 (NUL), which cannot be stored';

/** A minimal valid body of each type. */
const valid: Record<SegmentCallType, Record<string, unknown>> = {
  track: { userId: 'u1', event: 'Report Created' },
  identify: { userId: 'u1' },
  group: { userId: 'u1', groupId: 'acme' },
  page: { anonymousId: 'a1' },
  screen: { anonymousId: 'a1' },
  alias: { userId: 'u1', previousId: 'a1' },
};

/** A body as a sender writes it: JSON text, which the server parses. */
const sentCall = (body: unknown, type: SegmentCallType, receivedAt = RECEIVED) =>
  parseSegmentCall(body, JSON.stringify(body), type, receivedAt);
const sentBatch = (body: unknown) => parseSegmentBatch(body, JSON.stringify(body), RECEIVED);

function parsed(body: unknown, type: SegmentCallType = 'track'): SegmentMessage {
  const result = sentCall(body, type);
  if (!result.ok) throw new Error(`unexpected faults: ${JSON.stringify(result.error)}`);
  return result.value;
}

function faultsOf(body: unknown, type: SegmentCallType = 'track'): MessageFault[] {
  const result = sentCall(body, type);
  if (result.ok) throw new Error('expected faults');
  return result.error;
}

function batchFaults(body: unknown): MessageFault[] {
  const result = sentBatch(body);
  if (result.ok) throw new Error('expected faults');
  return result.error;
}

function batchOf(body: unknown): SegmentMessage[] {
  const result = sentBatch(body);
  if (!result.ok) throw new Error(`unexpected faults: ${JSON.stringify(result.error)}`);
  return result.value;
}

describe('parseSegmentCall', () => {
  it('reads a track call', () => {
    const properties = { plan: 'pro', seats: 12 };
    const sentAt = RECEIVED - 1000; // a sender clock one second behind, sent at once
    const body = {
      type: 'track',
      messageId: 'm-1',
      userId: 'u1',
      anonymousId: 'a1',
      event: 'Report Created',
      properties,
      context: { groupId: 'acme', ip: '203.0.113.5' },
      integrations: { All: true },
      timestamp: iso(sentAt - 250),
      sentAt: iso(sentAt),
      someVendorField: 1,
    };
    expect(parsed(body)).toEqual({
      type: 'track',
      messageId: 'm-1',
      userId: 'u1',
      anonymousId: 'a1',
      groupId: 'acme',
      event: 'Report Created',
      name: null,
      properties,
      traits: {},
      previousId: null,
      timestamp: RECEIVED - 250,
      originalTimestamp: sentAt - 250,
      sentAt,
      receivedAt: RECEIVED,
      json: JSON.stringify(body),
    } satisfies SegmentMessage);
  });

  it('keeps the call as it was sent, but for its writeKey', () => {
    const sent =
      '{ "type": "track",\n  "userId": "u1", "event": "Seen",\n  "properties": {"n": 1.50} }';
    const kept = parseSegmentCall(JSON.parse(sent), sent, 'track', RECEIVED);
    expect(kept.ok && kept.value.json).toBe(sent);

    const withKey = { writeKey: 'wm_wk_secret', userId: 'u1', event: 'Seen' };
    const stripped = parseSegmentCall(withKey, JSON.stringify(withKey), 'track', RECEIVED);
    expect(stripped.ok && stripped.value.json).toBe('{"userId":"u1","event":"Seen"}');
  });

  it('refuses a call over the size limit, counted in UTF-8 bytes as sent', () => {
    const call = (note: string) => ({ ...valid.track, properties: { note } });
    expect(sentCall(call('€'.repeat(10_000)), 'track').ok).toBe(true);
    expect(faultsOf(call('€'.repeat(11_000)))).toEqual([
      { index: null, field: 'body', message: 'must be at most 32768 bytes as sent' },
    ]);
    // Spaces count: the limit is on what was sent, not on a compact form of it.
    const body = call('x'.repeat(30_000));
    const spaced = JSON.stringify(body).replace('{', `{${' '.repeat(3_000)}`);
    expect(parseSegmentCall(body, JSON.stringify(body), 'track', RECEIVED).ok).toBe(true);
    expect(parseSegmentCall(body, spaced, 'track', RECEIVED).ok).toBe(false);
  });

  it('keeps the fields each type has, and only those', () => {
    const traits = { name: 'Acme', employees: 40 };
    const properties = { path: '/reports' };
    const common = { userId: 'u1', traits, properties, event: 'x', name: 'Reports' };

    const identify = parsed({ ...common }, 'identify');
    expect([identify.traits, identify.properties, identify.event, identify.name]).toEqual([
      traits,
      {},
      null,
      null,
    ]);

    const group = parsed({ ...common, groupId: 'acme', context: { groupId: 'other' } }, 'group');
    expect([group.groupId, group.traits, group.properties]).toEqual(['acme', traits, {}]);

    for (const type of ['page', 'screen'] as const) {
      const view = parsed({ ...common }, type);
      expect([view.name, view.properties, view.traits, view.event]).toEqual([
        'Reports',
        properties,
        {},
        null,
      ]);
    }

    const alias = parsed({ userId: 'u1', previousId: 'a1' }, 'alias');
    expect([alias.previousId, alias.userId, alias.groupId]).toEqual(['a1', 'u1', null]);

    const track = parsed({ ...common, previousId: 'p' }, 'track');
    expect([track.previousId, track.name, track.traits]).toEqual([null, null, {}]);
  });

  it('accepts the minimal body of every type, with defaults', () => {
    for (const type of SEGMENT_CALL_TYPES) {
      const message = parsed(valid[type], type);
      expect(message.type).toBe(type);
      expect(message.messageId).toBeNull();
      expect(message.properties).toEqual({});
      expect(message.timestamp).toBe(RECEIVED);
      expect(message.originalTimestamp).toBeNull();
      expect(message.sentAt).toBeNull();
    }
  });

  it('treats explicit null as absent', () => {
    const message = parsed({
      userId: null,
      anonymousId: 'a1',
      event: 'Signed Up',
      messageId: null,
      properties: null,
      context: null,
      timestamp: null,
      type: null,
    });
    expect(message).toMatchObject({ userId: null, messageId: null, properties: {} });
    expect(message.timestamp).toBe(RECEIVED);
  });

  describe('required fields', () => {
    it.each(SEGMENT_CALL_TYPES.filter((t) => t !== 'alias'))(
      '%s needs userId or anonymousId',
      (type) => {
        const { userId: _, anonymousId: __, ...rest } = valid[type];
        expect(faultsOf(rest, type)).toEqual([
          { index: null, field: 'userId', message: 'is required when there is no anonymousId' },
        ]);
      },
    );

    it('track needs an event', () => {
      expect(faultsOf({ userId: 'u1' })).toEqual([
        { index: null, field: 'event', message: 'is required for a track call' },
      ]);
      expect(faultsOf({ userId: 'u1', event: '' })).toEqual([
        { index: null, field: 'event', message: 'must not be empty' },
      ]);
    });

    it('group needs a groupId', () => {
      expect(faultsOf({ userId: 'u1' }, 'group')).toEqual([
        { index: null, field: 'groupId', message: 'is required for a group call' },
      ]);
      // context.groupId does not stand in for a group call's own groupId.
      expect(faultsOf({ userId: 'u1', context: { groupId: 'acme' } }, 'group')).toEqual([
        { index: null, field: 'groupId', message: 'is required for a group call' },
      ]);
    });

    it('alias needs previousId and userId (an anonymousId is not enough)', () => {
      expect(faultsOf({ anonymousId: 'a1' }, 'alias')).toEqual([
        { index: null, field: 'userId', message: 'is required for an alias call' },
        { index: null, field: 'previousId', message: 'is required for an alias call' },
      ]);
    });

    it('an empty id is a fault, not an absent one', () => {
      expect(faultsOf({ userId: '', anonymousId: '', event: 'x' })).toEqual([
        { index: null, field: 'userId', message: 'must not be empty' },
        { index: null, field: 'anonymousId', message: 'must not be empty' },
      ]);
    });
  });

  describe('wrong types', () => {
    it.each<[SegmentCallType, string, unknown, string]>([
      ['track', 'userId', 42, 'must be a string'],
      ['track', 'anonymousId', { id: 1 }, 'must be a string'],
      ['track', 'messageId', 7, 'must be a string'],
      ['track', 'messageId', '', 'must not be empty'],
      ['track', 'messageId', 'm'.repeat(201), 'must be at most 200 characters'],
      ['track', 'event', ['Signed Up'], 'must be a string'],
      ['page', 'name', 3, 'must be a string'],
      ['screen', 'name', false, 'must be a string'],
      ['group', 'groupId', 12, 'must be a string'],
      ['alias', 'previousId', true, 'must be a string'],
      ['track', 'properties', [1, 2], 'must be an object'],
      ['track', 'properties', 'x', 'must be an object'],
      ['identify', 'traits', [], 'must be an object'],
      ['group', 'traits', 5, 'must be an object'],
      ['track', 'context', 'ctx', 'must be an object'],
      ['track', 'integrations', [], 'must be an object'],
      ['track', 'timestamp', RECEIVED, TIME_FAULT],
      ['track', 'originalTimestamp', '2026-11-24', TIME_FAULT],
      ['track', 'sentAt', {}, TIME_FAULT],
    ])('%s: %s = %j', (type, field, value, message) => {
      expect(faultsOf({ ...valid[type], [field]: value }, type)).toEqual([
        { index: null, field, message },
      ]);
    });

    it.each<[SegmentCallType, string]>([
      ['track', 'userId'],
      ['track', 'anonymousId'],
      ['track', 'messageId'],
      ['track', 'event'],
      ['group', 'groupId'],
      ['alias', 'previousId'],
    ])('%s: refuses U+0000 in %s, which cannot be stored', (type, field) => {
      expect(faultsOf({ ...valid[type], [field]: 'a\u0000b' }, type)).toEqual([
        { index: null, field, message: NUL_FAULT },
      ]);
    });

    it('refuses U+0000 in the traits an account takes, naming where it is', () => {
      const traits = { plan: 'pro', seats: 3, owner: { tags: ['a', 'b\u0000'] } };
      expect(faultsOf({ ...valid.group, traits }, 'group')).toEqual([
        { index: null, field: 'traits.owner.tags[1]', message: NUL_FAULT },
      ]);
      expect(faultsOf({ ...valid.identify, traits: { 'k\u0000': 1 } }, 'identify')).toEqual([
        { index: null, field: 'traits', message: NUL_FAULT },
      ]);
      expect(faultsOf({ ...valid.track, context: { groupId: 'x\u0000' } })).toEqual([
        { index: null, field: 'context.groupId', message: NUL_FAULT },
      ]);
    });

    it('keeps U+0000 where only the call’s own JSON holds it: properties, a track’s traits', () => {
      const properties = { note: 'a\u0000b' };
      expect(parsed({ ...valid.track, properties }).properties).toEqual(properties);
      expect(parsed({ ...valid.track, traits: { x: '\u0000' } }).traits).toEqual({});
    });

    it('names context.groupId by its path', () => {
      expect(faultsOf({ ...valid.track, context: { groupId: 99 } })).toEqual([
        { index: null, field: 'context.groupId', message: 'must be a string' },
      ]);
    });

    it('accepts a messageId of exactly 200 characters', () => {
      expect(parsed({ ...valid.track, messageId: 'm'.repeat(200) }).messageId).toHaveLength(200);
    });

    it('refuses a body that is not an object', () => {
      for (const body of [null, 'x', [valid.track], 3]) {
        expect(faultsOf(body)).toEqual([
          { index: null, field: 'body', message: 'must be a JSON object' },
        ]);
      }
    });

    it('reports every fault of a call at once', () => {
      expect(
        faultsOf({ userId: 1, event: 2, properties: [], timestamp: 'yesterday' }).map(
          (f) => f.field,
        ),
      ).toEqual(['userId', 'properties', 'timestamp', 'event']);
    });
  });

  describe('type from the path', () => {
    it('accepts a body type that agrees with the path', () => {
      expect(parsed({ ...valid.identify, type: 'identify' }, 'identify').type).toBe('identify');
    });

    it('refuses a body type that disagrees', () => {
      expect(faultsOf({ ...valid.track, type: 'identify' }, 'track')).toEqual([
        {
          index: null,
          field: 'type',
          message: 'must be "track" to match /v1/track, or be left out',
        },
      ]);
      expect(faultsOf({ ...valid.page, type: 5 }, 'page')).toEqual([
        { index: null, field: 'type', message: 'must be "page" to match /v1/page, or be left out' },
      ]);
    });
  });

  describe('timestamps', () => {
    const at = (timestamp: unknown) => parsed({ ...valid.track, timestamp }).originalTimestamp;

    it('reads time zone offsets', () => {
      const tenUtc = Date.UTC(2026, 10, 24, 10, 0, 0);
      expect(at('2026-11-24T10:00:00Z')).toBe(tenUtc);
      expect(at('2026-11-24T12:00:00+02:00')).toBe(tenUtc);
      expect(at('2026-11-24T04:30:00-05:30')).toBe(tenUtc);
      expect(at('2026-11-23T23:15:00-10:45')).toBe(tenUtc);
      expect(at('2026-11-24T10:00:00-00:00')).toBe(tenUtc);
      expect(at('2026-11-24t10:00:00z')).toBe(tenUtc);
      // Across a day, month and year boundary.
      expect(at('2027-01-01T01:00:00+05:00')).toBe(Date.UTC(2026, 11, 31, 20));
    });

    it('reads fractional seconds, truncated to milliseconds', () => {
      const base = Date.UTC(2026, 10, 24, 10, 0, 0);
      expect(at('2026-11-24T10:00:00.5Z')).toBe(base + 500);
      expect(at('2026-11-24T10:00:00.05Z')).toBe(base + 50);
      expect(at('2026-11-24T10:00:00.123Z')).toBe(base + 123);
      expect(at('2026-11-24T10:00:00.123999999+01:00')).toBe(base - 3_600_000 + 123);
    });

    it('reads leap days and dates before 1970', () => {
      expect(at('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
      expect(at('2000-02-29T12:00:00Z')).toBe(Date.UTC(2000, 1, 29, 12));
      expect(at('1969-12-31T23:59:59.999Z')).toBe(-1);
    });

    it.each([
      '2026-11-24T10:00:00', // no time zone
      '2026-11-24',
      '2026-11-24T10:00Z', // no seconds
      '2026-11-24 10:00:00Z',
      '2026-11-24T10:00:00.Z',
      '2026-11-24T10:00:00+0200',
      '2026-11-24T10:00:00+2:00',
      '2026-11-24T10:00:00+24:00',
      '2026-11-24T10:00:00Zjunk',
      '2026-02-29T10:00:00Z', // not a leap year
      '1900-02-29T10:00:00Z',
      '2026-04-31T10:00:00Z',
      '2026-13-01T10:00:00Z',
      '2026-00-01T10:00:00Z',
      '2026-11-24T24:00:00Z',
      '2026-11-24T10:60:00Z',
      '2026-11-24T10:00:60Z',
      '+2026-11-24T10:00:00Z',
      '２026-11-24T10:00:00Z',
      'Tue, 24 Nov 2026 10:00:00 GMT',
      '',
    ])('refuses %j', (timestamp) => {
      expect(faultsOf({ ...valid.track, timestamp })).toEqual([
        { index: null, field: 'timestamp', message: TIME_FAULT },
      ]);
    });

    it('corrects a sender clock 5 minutes ahead to receivedAt minus the send delay', () => {
      const skew = 5 * 60_000;
      const happened = RECEIVED - 4_000; // true times
      const sent = RECEIVED - 1_000;
      const message = parsed({
        ...valid.track,
        timestamp: iso(happened + skew),
        sentAt: iso(sent + skew),
      });
      // The sender waited 3 s between the event and sending it.
      expect(message.timestamp).toBe(RECEIVED - 3_000);
      expect(message.originalTimestamp).toBe(happened + skew);
      expect(message.sentAt).toBe(sent + skew);
    });

    it('uses originalTimestamp when there is no timestamp, timestamp when there are both', () => {
      const only = parsed({
        ...valid.track,
        originalTimestamp: iso(RECEIVED - 10_000),
        sentAt: iso(RECEIVED - 2_000),
      });
      expect([only.originalTimestamp, only.timestamp]).toEqual([
        RECEIVED - 10_000,
        RECEIVED - 8_000,
      ]);
      const both = parsed({
        ...valid.track,
        timestamp: iso(RECEIVED - 60_000),
        originalTimestamp: iso(RECEIVED - 10_000),
      });
      expect([both.originalTimestamp, both.timestamp]).toEqual([
        RECEIVED - 60_000,
        RECEIVED - 60_000,
      ]);
    });

    it('keeps a sender time without sentAt as given (historical imports)', () => {
      const lastYear = Date.UTC(2025, 10, 24);
      expect(parsed({ ...valid.track, timestamp: iso(lastYear) }).timestamp).toBe(lastYear);
    });

    it('uses receivedAt without a sender time, even with a sentAt', () => {
      const message = parsed({ ...valid.track, sentAt: iso(RECEIVED + 99_000) });
      expect([message.timestamp, message.sentAt]).toEqual([RECEIVED, RECEIVED + 99_000]);
    });

    it('clamps a corrected time after receivedAt to receivedAt', () => {
      // An event stamped after it was sent.
      const afterSent = parsed({
        ...valid.track,
        timestamp: iso(RECEIVED + 5_000),
        sentAt: iso(RECEIVED),
      });
      expect(afterSent.timestamp).toBe(RECEIVED);
      expect(afterSent.originalTimestamp).toBe(RECEIVED + 5_000);
      // A future time with nothing to correct it by.
      const future = parsed({ ...valid.track, timestamp: iso(RECEIVED + 86_400_000) });
      expect(future.timestamp).toBe(RECEIVED);
    });
  });
});

describe('parseSegmentBatch', () => {
  const track = (extra: Record<string, unknown> = {}) => ({
    type: 'track',
    ...valid.track,
    ...extra,
  });

  it('reads the messages of every type in order', () => {
    const batch = SEGMENT_CALL_TYPES.map((type) => ({ type, ...valid[type] }));
    expect(batchOf({ batch, writeKey: 'wk' }).map((m) => m.type)).toEqual(SEGMENT_CALL_TYPES);
  });

  it('applies the batch sentAt to messages without their own', () => {
    const messages = batchOf({
      sentAt: iso(RECEIVED - 1_000),
      batch: [
        track({ timestamp: iso(RECEIVED - 6_000) }),
        track({ timestamp: iso(RECEIVED - 6_000), sentAt: iso(RECEIVED - 2_000) }),
        track(),
      ],
    });
    expect(messages.map((m) => [m.sentAt, m.timestamp])).toEqual([
      [RECEIVED - 1_000, RECEIVED - 5_000],
      [RECEIVED - 2_000, RECEIVED - 4_000],
      [RECEIVED - 1_000, RECEIVED],
    ]);
  });

  it('applies the batch context.groupId under each message’s own', () => {
    const messages = batchOf({
      context: { groupId: 'acme', library: { name: 'analytics-node' } },
      batch: [
        track(),
        track({ context: { ip: '203.0.113.5' } }),
        track({ context: { groupId: 'globex' } }),
        { type: 'group', userId: 'u1', groupId: 'initech', context: { groupId: 'globex' } },
      ],
    });
    expect(messages.map((m) => m.groupId)).toEqual(['acme', 'acme', 'globex', 'initech']);
  });

  it('reports the faults of all elements together, with their indexes', () => {
    expect(
      batchFaults({
        batch: [
          track(),
          'Signed Up',
          { userId: 'u1', event: 'x' },
          { type: 'trak', event: 'x', timestamp: 'now' },
          track({ event: undefined, timestamp: '2026-11-24T10:00:00' }),
          { type: 'group', anonymousId: 'a1', context: { groupId: 5 } },
          track(),
        ],
      }),
    ).toEqual([
      { index: 1, field: 'batch[1]', message: 'must be an object' },
      { index: 2, field: 'batch[2].type', message: 'is required' },
      {
        index: 3,
        field: 'batch[3].type',
        message: 'must be one of track, identify, group, page, screen, alias',
      },
      { index: 3, field: 'batch[3].userId', message: 'is required when there is no anonymousId' },
      { index: 3, field: 'batch[3].timestamp', message: TIME_FAULT },
      { index: 4, field: 'batch[4].timestamp', message: TIME_FAULT },
      { index: 4, field: 'batch[4].event', message: 'is required for a track call' },
      { index: 5, field: 'batch[5].context.groupId', message: 'must be a string' },
      { index: 5, field: 'batch[5].groupId', message: 'is required for a group call' },
    ] satisfies MessageFault[]);
  });

  it('reports faults of the batch itself without an index', () => {
    expect(
      batchFaults({
        sentAt: 'soon',
        context: { groupId: '' },
        integrations: 'all',
        batch: [track({ userId: 3 })],
      }),
    ).toEqual([
      { index: null, field: 'sentAt', message: TIME_FAULT },
      { index: null, field: 'context.groupId', message: 'must not be empty' },
      { index: null, field: 'integrations', message: 'must be an object' },
      { index: 0, field: 'batch[0].userId', message: 'must be a string' },
    ]);
    expect(batchFaults({ batch: [], context: [] })).toEqual([
      { index: null, field: 'context', message: 'must be an object' },
      { index: null, field: 'batch', message: 'must contain at least one message' },
    ]);
  });

  it('needs a batch array', () => {
    expect(batchFaults({})).toEqual([{ index: null, field: 'batch', message: 'is required' }]);
    expect(batchFaults({ batch: track() })).toEqual([
      { index: null, field: 'batch', message: 'must be an array of messages' },
    ]);
    expect(batchFaults([track()])).toEqual([
      { index: null, field: 'body', message: 'must be a JSON object' },
    ]);
  });

  it('parses a batch of the largest size', () => {
    const batch = Array.from({ length: SEGMENT_LIMITS.batchMessages }, (_, i) =>
      track({
        messageId: `m-${i}`,
        context: { groupId: `org_${i % 50}`, library: { name: 'analytics.js', version: '2.1' } },
        properties: { report: `r-${i}`, rows: i, filters: ['region', 'plan'], shared: i % 2 === 0 },
        timestamp: iso(RECEIVED - 4_000 - i),
      }),
    );
    const messages = batchOf({ batch, sentAt: iso(RECEIVED - 1_000) });
    expect(messages).toHaveLength(SEGMENT_LIMITS.batchMessages);
    expect(messages[2_499]).toMatchObject({ messageId: 'm-2499', groupId: 'org_49' });
  });

  it('refuses more messages than the limit without checking each', () => {
    const batch = Array.from({ length: SEGMENT_LIMITS.batchMessages + 1 }, () => 'junk');
    expect(batchFaults({ batch })).toEqual([
      { index: null, field: 'batch', message: 'must contain at most 2500 messages (it has 2501)' },
    ]);
  });

  it('refuses an element over the message size limit, counted in UTF-8 bytes', () => {
    // Each € is one UTF-16 unit but three UTF-8 bytes; the rest of the element is < 100 bytes.
    const small = track({ properties: { note: '€'.repeat(10_000) } });
    const large = track({ properties: { note: '€'.repeat(11_000) } });
    const ascii = track({ properties: { note: 'x'.repeat(SEGMENT_LIMITS.messageBytes) } });
    expect(batchFaults({ batch: [small, large, ascii] })).toEqual([
      { index: 1, field: 'batch[1]', message: 'must be at most 32768 bytes as sent' },
      { index: 2, field: 'batch[2]', message: 'must be at most 32768 bytes as sent' },
    ]);
  });

  it('counts escapes as they were sent', () => {
    // 2 bytes each (\n), then 6 bytes each (\u0001).
    const newlines = track({ properties: { note: '\n'.repeat(15_000) } });
    const controls = track({ properties: { note: '\u0001'.repeat(6_000) } });
    expect(batchFaults({ batch: [newlines, controls] })).toEqual([
      { index: 1, field: 'batch[1]', message: 'must be at most 32768 bytes as sent' },
    ]);
  });

  it('measures and keeps calls nested deeper than JSON.stringify can go', () => {
    const tree = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(() => JSON.stringify(JSON.parse(tree(10_000)))).toThrow(RangeError);
    const call = (depth: number) =>
      `{"type":"track","userId":"u1","event":"Deep","properties":{"tree":${tree(depth)}}}`;
    const text = `{"batch":[${call(10_000)},${call(100_000)}]}`;
    expect(parseSegmentBatch(JSON.parse(text), text, RECEIVED)).toEqual({
      ok: false,
      error: [{ index: 1, field: 'batch[1]', message: 'must be at most 32768 bytes as sent' }],
    });
    const fits = `{"batch":[${call(10_000)}]}`;
    const kept = parseSegmentBatch(JSON.parse(fits), fits, RECEIVED);
    expect(kept.ok && kept.value[0]?.json).toBe(call(10_000));
    // A writeKey in such a call cannot be taken out by writing it again.
    const keyed = `{"batch":[{"writeKey":"k",${call(10_000).slice(1)}]}`;
    expect(parseSegmentBatch(JSON.parse(keyed), keyed, RECEIVED)).toEqual({
      ok: false,
      error: [
        {
          index: 0,
          field: 'batch[0].writeKey',
          message: 'cannot be removed: the call is nested too deeply',
        },
      ],
    });
  });

  it('keeps each element as it stands in the body, but for its writeKey', () => {
    const text = `{ "sentAt": "${iso(RECEIVED)}",
      "batch": [ {"type":"track", "userId":"u1","event":"A"} ,
        {"type":"identify","userId":"u2","traits":{"s":"]}\\""}, "writeKey":"wm_wk_1"} ] }`;
    const result = parseSegmentBatch(JSON.parse(text), text, RECEIVED);
    expect(result.ok && result.value.map((m) => m.json)).toEqual([
      '{"type":"track", "userId":"u1","event":"A"}',
      '{"type":"identify","userId":"u2","traits":{"s":"]}\\""}}',
    ]);
  });

  it('refuses an element exactly when its compact UTF-8 JSON is over the limit', () => {
    const piece = fc.constantFrom(
      'a',
      '"',
      '\\',
      '\n',
      '\u0007',
      'é',
      '€',
      '😀',
      '\ud800',
      '\udc00',
    );
    const element = fc
      .record({
        text: fc.array(piece, { minLength: 1, maxLength: 8 }),
        times: fc.integer({ min: 1_000, max: 12_000 }),
        numbers: fc.array(fc.double(), { maxLength: 20 }),
      })
      .map(({ text, times, numbers }) =>
        track({ properties: { text: text.join('').repeat(times), numbers } }),
      );
    fc.assert(
      fc.property(element, (el) => {
        const over = Buffer.byteLength(JSON.stringify(el)) > SEGMENT_LIMITS.messageBytes;
        expect(sentBatch({ batch: [el] }).ok).toBe(!over);
      }),
      { numRuns: 300 },
    );
  });
});

describe('writeKeyInBody', () => {
  it('returns a non-empty string writeKey, else null', () => {
    expect(writeKeyInBody({ writeKey: 'wk_123', batch: [] })).toBe('wk_123');
    expect(writeKeyInBody({ writeKey: '' })).toBeNull();
    expect(writeKeyInBody({ writeKey: 123 })).toBeNull();
    expect(writeKeyInBody({})).toBeNull();
    expect(writeKeyInBody(null)).toBeNull();
    expect(writeKeyInBody('wk_123')).toBeNull();
  });
});

describe('properties', () => {
  const pad = (n: number) => String(n).padStart(2, '0');
  /** An instant as local time at an offset, written independently of the parser. */
  function isoAtOffset(ms: number, offsetMinutes: number): string {
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
    if (offsetMinutes === 0) return `${local}Z`;
    const abs = Math.abs(offsetMinutes);
    return `${local}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  }

  const instant = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) });
  const offset = fc.integer({ min: -14 * 60, max: 14 * 60 });
  const id = fc.string({ minLength: 1, maxLength: 40 });
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

  const trackCall = fc
    .record({
      userId: optional(id),
      anonymousId: optional(id),
      messageId: optional(fc.string({ minLength: 1, maxLength: 200 })),
      event: id,
      properties: optional(fc.dictionary(fc.string(), fc.jsonValue())),
      groupId: optional(id),
      timestamp: optional(fc.tuple(instant, offset)),
      sentAt: optional(fc.tuple(instant, offset)),
      receivedAt: instant,
    })
    .filter((c) => c.userId !== undefined || c.anonymousId !== undefined);

  it('preserves the fields of any valid track call, and never dates it after receipt', () => {
    fc.assert(
      fc.property(trackCall, (c) => {
        const body = {
          type: 'track',
          userId: c.userId,
          anonymousId: c.anonymousId,
          messageId: c.messageId,
          event: c.event,
          properties: c.properties,
          context: c.groupId === undefined ? undefined : { groupId: c.groupId },
          timestamp: c.timestamp && isoAtOffset(...c.timestamp),
          sentAt: c.sentAt && isoAtOffset(...c.sentAt),
        };
        const result = sentCall(body, 'track', c.receivedAt);
        if (!result.ok) throw new Error(JSON.stringify(result.error));
        const m = result.value;

        const senderTime = c.timestamp?.[0] ?? null;
        const sentAt = c.sentAt?.[0] ?? null;
        let expected = c.receivedAt;
        if (senderTime !== null) {
          expected = sentAt === null ? senderTime : c.receivedAt - (sentAt - senderTime);
        }
        expect(m).toEqual({
          json: JSON.stringify(body),
          type: 'track',
          messageId: c.messageId ?? null,
          userId: c.userId ?? null,
          anonymousId: c.anonymousId ?? null,
          groupId: c.groupId ?? null,
          event: c.event,
          name: null,
          properties: c.properties ?? {},
          traits: {},
          previousId: null,
          timestamp: Math.min(expected, c.receivedAt),
          originalTimestamp: senderTime,
          sentAt,
          receivedAt: c.receivedAt,
        });
        expect(m.timestamp).toBeLessThanOrEqual(c.receivedAt);
      }),
    );
  });

  it('reads any instant written at any offset back to the same millisecond', () => {
    fc.assert(
      fc.property(instant, offset, (ms, minutes) => {
        const timestamp = isoAtOffset(ms, minutes);
        const m = sentCall({ ...valid.track, timestamp }, 'track', Date.UTC(2200, 0, 1));
        expect(m.ok && m.value.originalTimestamp).toBe(ms);
      }),
    );
  });
});
