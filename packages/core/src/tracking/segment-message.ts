import { err, ok, type Result } from '../result.js';
import { batchElementTexts } from './batch-text.js';

/*
 * Parses what arrives at Segment's HTTP tracking API. It runs for every ingested event
 * (~100k a second), so the checks are hand-written: no schema library, no regular expressions,
 * no copies of the sender's objects.
 *
 * Explicit `null` counts as absent for every field. Segment's SDKs send `"userId": null` for
 * anonymous visitors, and a fault for that would refuse their whole batch. A present id
 * (userId, anonymousId, messageId, groupId, previousId, event) must be a non-empty string.
 *
 * What is stored outside the call's own JSON text (the ids, and the traits of identify and group
 * calls, which become the account's) must not hold the character U+0000: PostgreSQL's text and
 * jsonb cannot, so one such call would fail its whole commit, and a trait the tracking could
 * never write would stop it. Refused on both engines alike, naming the field.
 */

export type SegmentCallType = 'track' | 'identify' | 'group' | 'page' | 'screen' | 'alias';

export const SEGMENT_CALL_TYPES: readonly SegmentCallType[] = Object.freeze([
  'track',
  'identify',
  'group',
  'page',
  'screen',
  'alias',
] as const);

/**
 * Segment's documented size limits. The HTTP layer checks `batchBytes` on a body; the parsers
 * check `messageBytes` on each call's text as it was sent (a single call's body, or a batch's
 * element) and `batchMessages` on a batch.
 */
export const SEGMENT_LIMITS = Object.freeze({
  batchBytes: 512_000,
  messageBytes: 32_768,
  batchMessages: 2_500,
} as const);

/** One call, as Waymark keeps it. Times are epoch milliseconds. */
export interface SegmentMessage {
  type: SegmentCallType;
  /** null when the sender gave none (the server then makes one). */
  messageId: string | null;
  userId: string | null;
  anonymousId: string | null;
  /** The account (B2B company) the call belongs to: `groupId` of a group call, else `context.groupId`, else null. */
  groupId: string | null;
  /** track: the event name; null for other types. */
  event: string | null;
  /** page / screen: the name, if any; null otherwise. */
  name: string | null;
  /** track / page / screen: `properties`, {} when absent; others: {}. The sender's object, not a copy. */
  properties: Record<string, unknown>;
  /** identify / group: `traits`, {} when absent; others: {}. The sender's object, not a copy. */
  traits: Record<string, unknown>;
  /** alias: previousId, else null */
  previousId: string | null;
  /**
   * When it happened, corrected for the sender's clock skew. With a sender time and a `sentAt`
   * (the message's own, else the batch's): `receivedAt − (sentAt − senderTime)`, the sender's
   * clock error cancels out. With a sender time only (historical imports): the sender time.
   * With neither: `receivedAt`. Then clamped to at most `receivedAt`: an event never happened
   * after it was received.
   */
  timestamp: number;
  /** The sender's own time for the call (`timestamp`, or `originalTimestamp` if only that is given), or null. */
  originalTimestamp: number | null;
  /** The message's `sentAt`, else the batch's, else null. */
  sentAt: number | null;
  receivedAt: number;
  /**
   * The call's JSON text as it was sent (a batch's element as it stands in the body), kept as
   * the raw event; written out again, without it, when it carried a `writeKey`.
   */
  json: string;
}

export interface MessageFault {
  /** Index of the message in a batch; null for a single call or a fault of the batch itself. */
  index: number | null;
  /** Path of the field at fault, as the sender wrote it: "event", "batch[3].userId", "batch[0].context.groupId", "batch" … The body itself is "body". */
  field: string;
  /** What is wrong, for a person. */
  message: string;
}

type JsonObject = Record<string, unknown>;

const TIME_FAULT = 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-24T10:00:00Z';
const MESSAGE_ID_MAX = 200;

/** Collects faults; paths get the `batch[i].` prefix only when a fault is actually written. */
class Faults {
  readonly list: MessageFault[] = [];
  index: number | null = null;

  add(field: string, message: string): void {
    const index = this.index;
    this.list.push({ index, field: index === null ? field : `batch[${index}].${field}`, message });
  }
}

function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

function isPlainObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A non-empty string, or null when absent; `requiredFor` names the call that needs it. */
function idField(
  value: unknown,
  field: string,
  faults: Faults,
  requiredFor: string | null,
  maxLength = Number.POSITIVE_INFINITY,
): string | null {
  if (isAbsent(value)) {
    if (requiredFor !== null) faults.add(field, `is required for ${requiredFor}`);
    return null;
  }
  if (typeof value !== 'string') faults.add(field, 'must be a string');
  else if (value.length === 0) faults.add(field, 'must not be empty');
  else if (value.length > maxLength) faults.add(field, `must be at most ${maxLength} characters`);
  else if (value.includes(NUL)) faults.add(field, NUL_FAULT);
  else return value;
  return null;
}

const NUL = '\u0000';
const NUL_FAULT = 'must not contain the character U+0000 (NUL), which cannot be stored';

/**
 * The path of the first string or key under `root` that holds U+0000, or null. Walks with its
 * own stack: JSON.parse accepts nesting far deeper than the call stack can take.
 */
function nulPath(root: JsonObject, field: string): string | null {
  const stack: [unknown, string][] = [[root, field]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [value, path] = next;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return path;
    } else if (Array.isArray(value)) {
      value.forEach((element, i) => {
        stack.push([element, `${path}[${i}]`]);
      });
    } else if (typeof value === 'object' && value !== null) {
      for (const key in value) {
        if (key.includes(NUL)) return path;
        stack.push([(value as JsonObject)[key], `${path}.${key}`]);
      }
    }
  }
  return null;
}

function objectField(value: unknown, field: string, faults: Faults): JsonObject | null {
  if (isAbsent(value)) return null;
  if (isPlainObject(value)) return value;
  faults.add(field, 'must be an object');
  return null;
}

function timeField(value: unknown, field: string, faults: Faults): number | null {
  if (isAbsent(value)) return null;
  const millis = typeof value === 'string' ? isoMillis(value) : null;
  if (millis === null) faults.add(field, TIME_FAULT);
  return millis;
}

function digitsAt(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 48;
    // Written so that NaN (past the end of the string) fails too.
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)` as epoch milliseconds, else null. RFC 3339's
 * profile of ISO 8601: a time zone is required (a local time would be off by the sender's
 * offset), `t`/`z` may be lower case, fractions beyond milliseconds are truncated.
 * Date.parse is not used: it accepts many other shapes and guesses a zone when none is given.
 */
function isoMillis(s: string): number | null {
  const n = s.length;
  if (n < 20) return null;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  const hour = digitsAt(s, 11, 2);
  const minute = digitsAt(s, 14, 2);
  const second = digitsAt(s, 17, 2);
  const t = s.charCodeAt(10);
  if (
    year < 0 ||
    s.charCodeAt(4) !== 45 || // -
    s.charCodeAt(7) !== 45 ||
    (t !== 84 && t !== 116) || // T t
    s.charCodeAt(13) !== 58 || // :
    s.charCodeAt(16) !== 58 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  ) {
    return null;
  }
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === 46) {
    // .
    const start = ++i;
    for (let d = s.charCodeAt(i) - 48; d >= 0 && d <= 9; d = s.charCodeAt(++i) - 48) {
      if (i - start < 3) ms = ms * 10 + d;
    }
    const digits = i - start;
    if (digits === 0) return null;
    if (digits === 1) ms *= 100;
    else if (digits === 2) ms *= 10;
  }
  let offsetMinutes: number;
  const zone = s.charCodeAt(i);
  if ((zone === 90 || zone === 122) && i + 1 === n) {
    offsetMinutes = 0; // Z z
  } else if ((zone === 43 || zone === 45) && i + 6 === n && s.charCodeAt(i + 3) === 58) {
    // ±hh:mm
    const offsetHours = digitsAt(s, i + 1, 2);
    const offsetMins = digitsAt(s, i + 4, 2);
    if (offsetHours < 0 || offsetHours > 23 || offsetMins < 0 || offsetMins > 59) return null;
    offsetMinutes = (zone === 45 ? -1 : 1) * (offsetHours * 60 + offsetMins);
  } else {
    return null;
  }
  const seconds =
    daysFromCivil(year, month, day) * 86_400 + hour * 3600 + (minute - offsetMinutes) * 60 + second;
  return seconds * 1000 + ms;
}

/** UTF-8 bytes of a string (a lone surrogate counts 3, as it is written: U+FFFD). */
function utf8Bytes(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c <= 0xdbff && c >= 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // a surrogate pair
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether a call's text is over the size limit; a UTF-16 unit is at most 3 UTF-8 bytes. */
function tooLarge(text: string): boolean {
  return (
    text.length * 3 > SEGMENT_LIMITS.messageBytes && utf8Bytes(text) > SEGMENT_LIMITS.messageBytes
  );
}

const TOO_LARGE = `must be at most ${SEGMENT_LIMITS.messageBytes} bytes as sent`;

/**
 * The text a call is kept as: as it was sent, but without a `writeKey` member, which is a
 * credential (then written out again without it); null when it cannot be written out (JSON.parse
 * takes nesting deeper than JSON.stringify can write).
 */
function keptText(call: JsonObject, sent: string): string | null {
  if (!Object.hasOwn(call, 'writeKey')) return sent;
  const { writeKey: _credential, ...rest } = call;
  try {
    return JSON.stringify(rest);
  } catch {
    return null;
  }
}

function callType(value: unknown): SegmentCallType | null {
  switch (value) {
    case 'track':
    case 'identify':
    case 'group':
    case 'page':
    case 'screen':
    case 'alias':
      return value;
    default:
      return null;
  }
}

/**
 * Checks one message; null when it has faults (they are in `faults`), or when `type` is null
 * (unknown, already reported: its common fields are still checked so all faults come at once).
 */
function parseMessage(
  m: JsonObject,
  sent: string,
  type: SegmentCallType | null,
  faults: Faults,
  receivedAt: number,
  batchSentAt: number | null,
  batchGroupId: string | null,
): SegmentMessage | null {
  const before = faults.list.length;
  const json = keptText(m, sent);
  if (json === null) faults.add('writeKey', 'cannot be removed: the call is nested too deeply');

  const messageId = idField(m.messageId, 'messageId', faults, null, MESSAGE_ID_MAX);
  const userId = idField(m.userId, 'userId', faults, type === 'alias' ? 'an alias call' : null);
  const anonymousId = idField(m.anonymousId, 'anonymousId', faults, null);
  if (type !== 'alias' && isAbsent(m.userId) && isAbsent(m.anonymousId)) {
    faults.add('userId', 'is required when there is no anonymousId');
  }

  const properties = objectField(m.properties, 'properties', faults);
  const traits = objectField(m.traits, 'traits', faults);
  const traitsWithNul =
    traits !== null && (type === 'identify' || type === 'group') ? nulPath(traits, 'traits') : null;
  if (traitsWithNul !== null) faults.add(traitsWithNul, NUL_FAULT);
  objectField(m.integrations, 'integrations', faults);
  const context = objectField(m.context, 'context', faults);
  const contextGroupId =
    context === null ? null : idField(context.groupId, 'context.groupId', faults, null);

  const timestamp = timeField(m.timestamp, 'timestamp', faults);
  const originalTimestamp = timeField(m.originalTimestamp, 'originalTimestamp', faults);
  const ownSentAt = timeField(m.sentAt, 'sentAt', faults);

  let event: string | null = null;
  let name: string | null = null;
  let groupId: string | null = null;
  let previousId: string | null = null;
  switch (type) {
    case 'track':
      event = idField(m.event, 'event', faults, 'a track call');
      break;
    case 'page':
    case 'screen':
      if (!isAbsent(m.name)) {
        if (typeof m.name === 'string') name = m.name;
        else faults.add('name', 'must be a string');
      }
      break;
    case 'group':
      groupId = idField(m.groupId, 'groupId', faults, 'a group call');
      break;
    case 'alias':
      previousId = idField(m.previousId, 'previousId', faults, 'an alias call');
      break;
    default:
      break;
  }
  if (type === null || json === null || faults.list.length !== before) return null;

  const senderTime = timestamp ?? originalTimestamp;
  const sentAt = ownSentAt ?? batchSentAt;
  let corrected: number;
  if (senderTime === null) corrected = receivedAt;
  else if (sentAt === null) corrected = senderTime;
  else corrected = receivedAt - (sentAt - senderTime);
  if (corrected > receivedAt) corrected = receivedAt;

  const usesProperties = type === 'track' || type === 'page' || type === 'screen';
  const usesTraits = type === 'identify' || type === 'group';
  return {
    type,
    messageId,
    userId,
    anonymousId,
    groupId: groupId ?? contextGroupId ?? batchGroupId,
    event,
    name,
    properties: (usesProperties && properties) || {},
    traits: (usesTraits && traits) || {},
    previousId,
    timestamp: corrected,
    originalTimestamp: senderTime,
    sentAt,
    receivedAt,
    json,
  };
}

function notAnObject(): { ok: false; error: MessageFault[] } {
  return err([{ index: null, field: 'body', message: 'must be a JSON object' }]);
}

/**
 * One call posted to /v1/<type> (type from the path; a `type` in the body, if present, must
 * agree). `text` is the body as received, which JSON.parse made `body` of.
 */
export function parseSegmentCall(
  body: unknown,
  text: string,
  type: SegmentCallType,
  receivedAt: number,
): Result<SegmentMessage, MessageFault[]> {
  if (!isPlainObject(body)) return notAnObject();
  const faults = new Faults();
  if (tooLarge(text)) faults.add('body', TOO_LARGE);
  if (!isAbsent(body.type) && body.type !== type) {
    faults.add('type', `must be "${type}" to match /v1/${type}, or be left out`);
  }
  const message = parseMessage(body, text, type, faults, receivedAt, null, null);
  return message === null || faults.list.length > 0 ? err(faults.list) : ok(message);
}

/**
 * A /v1/batch body: `{ batch: [...], sentAt?, context?, integrations?, writeKey? }`. Each
 * element carries its own `type`. The batch's `sentAt` applies to messages without their own;
 * its `context.groupId` to messages without their own `context.groupId` (the rest of `context`
 * is not part of SegmentMessage). All-or-nothing: one faulty element refuses the batch, so
 * every fault of every element is reported at once, with its index. A batch over
 * `SEGMENT_LIMITS.batchMessages` is refused without looking at its elements. `text` is the body
 * as received, which JSON.parse made `body` of: each element is kept as its part of it.
 */
export function parseSegmentBatch(
  body: unknown,
  text: string,
  receivedAt: number,
): Result<SegmentMessage[], MessageFault[]> {
  if (!isPlainObject(body)) return notAnObject();
  const faults = new Faults();
  const sentAt = timeField(body.sentAt, 'sentAt', faults);
  const context = objectField(body.context, 'context', faults);
  const groupId =
    context === null ? null : idField(context.groupId, 'context.groupId', faults, null);
  objectField(body.integrations, 'integrations', faults);

  const batch = body.batch;
  if (!Array.isArray(batch)) {
    faults.add('batch', isAbsent(batch) ? 'is required' : 'must be an array of messages');
    return err(faults.list);
  }
  if (batch.length === 0) {
    faults.add('batch', 'must contain at least one message');
    return err(faults.list);
  }
  if (batch.length > SEGMENT_LIMITS.batchMessages) {
    faults.add(
      'batch',
      `must contain at most ${SEGMENT_LIMITS.batchMessages} messages (it has ${batch.length})`,
    );
    return err(faults.list);
  }

  const texts = batchElementTexts(text);
  if (texts?.length !== batch.length) throw new Error('the batch text does not match its body');
  const messages: SegmentMessage[] = [];
  for (let i = 0; i < batch.length; i++) {
    const element: unknown = batch[i];
    if (!isPlainObject(element)) {
      faults.list.push({ index: i, field: `batch[${i}]`, message: 'must be an object' });
      continue;
    }
    const sent = texts[i] as string;
    if (tooLarge(sent)) faults.list.push({ index: i, field: `batch[${i}]`, message: TOO_LARGE });
    faults.index = i;
    const type = callType(element.type);
    if (type === null) {
      faults.add(
        'type',
        isAbsent(element.type) ? 'is required' : `must be one of ${SEGMENT_CALL_TYPES.join(', ')}`,
      );
    }
    const message = parseMessage(element, sent, type, faults, receivedAt, sentAt, groupId);
    if (message !== null) messages.push(message);
  }
  return faults.list.length > 0 ? err(faults.list) : ok(messages);
}

/** The write key given in the body (`writeKey`), if it is a non-empty string: Segment also accepts it there instead of HTTP Basic auth. */
export function writeKeyInBody(body: unknown): string | null {
  if (!isPlainObject(body)) return null;
  const key = body.writeKey;
  return typeof key === 'string' && key.length > 0 ? key : null;
}
