import { DateTime, IANAZone } from 'luxon';

/** A calendar date as people in one time zone see it: 'YYYY-MM-DD'. */
export type LocalDate = string;
/** A point in time, always as `Date#toISOString()` writes it: 'YYYY-MM-DDTHH:mm:ss.sssZ'. */
export type Instant = string;

export type ScheduleInputErrorCode = 'invalid_time_zone' | 'invalid_local_date' | 'invalid_instant';

/**
 * Thrown for a malformed time zone, date or instant. These are programming or data errors (the
 * server validates user input with isValidTimeZone / isLocalDate / isInstant before it gets
 * here), so the date functions throw rather than return a Result that every caller of every
 * schedule computation would have to unwrap.
 */
export class ScheduleInputError extends Error {
  override readonly name = 'ScheduleInputError';
  constructor(
    readonly code: ScheduleInputErrorCode,
    readonly value: string,
    message: string,
  ) {
    super(message);
  }
}

const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An IANA zone name that this runtime knows, such as 'Europe/Berlin' or 'UTC'. */
export function isValidTimeZone(timeZone: string): boolean {
  return IANAZone.isValidZone(timeZone);
}

export function isLocalDate(value: string): boolean {
  return LOCAL_DATE.test(value) && epochDayOrNull(value) !== null;
}

const DAY_MS = 86_400_000;

/**
 * Days since 1970-01-01, or null for an impossible date such as 2026-02-30. Date arithmetic
 * runs on these plain integers: it is exact (no zones involved) and far cheaper than luxon,
 * which matters when business days are counted one at a time.
 */
function epochDayOrNull(value: string): number | null {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  const valid =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return valid ? Math.round(date.getTime() / DAY_MS) : null;
}

export function isInstant(value: string): boolean {
  return INSTANT.test(value) && DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

export function assertTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) {
    throw new ScheduleInputError(
      'invalid_time_zone',
      timeZone,
      `Unknown time zone "${timeZone}": use an IANA name such as "Europe/Berlin" or "America/New_York"`,
    );
  }
}

function epochDay(date: LocalDate): number {
  const value = LOCAL_DATE.test(date) ? epochDayOrNull(date) : null;
  if (value === null) {
    throw new ScheduleInputError(
      'invalid_local_date',
      date,
      `Invalid date "${date}": expected a calendar date as YYYY-MM-DD`,
    );
  }
  return value;
}

function fromEpochDay(day: number): LocalDate {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function parseInstant(instant: Instant): DateTime {
  if (!isInstant(instant)) {
    throw new ScheduleInputError(
      'invalid_instant',
      instant,
      `Invalid instant "${instant}": expected UTC as YYYY-MM-DDTHH:mm:ss.sssZ`,
    );
  }
  return DateTime.fromISO(instant, { zone: 'UTC' });
}

/** The calendar date of `instant` on a wall calendar in `timeZone`. */
export function localDateOf(instant: Instant, timeZone: string): LocalDate {
  assertTimeZone(timeZone);
  return parseInstant(instant).setZone(timeZone).toFormat('yyyy-MM-dd');
}

/**
 * The first instant of `date` in `timeZone`. Usually local midnight; where a daylight-saving
 * change skips midnight (e.g. America/Santiago) it is the first wall-clock time that exists.
 */
export function startOfLocalDay(date: LocalDate, timeZone: string): Instant {
  assertTimeZone(timeZone);
  epochDay(date); // validates
  const start = DateTime.fromISO(date, { zone: timeZone }).startOf('day');
  return start.toUTC().toJSDate().toISOString();
}

export function addCalendarDays(date: LocalDate, days: number): LocalDate {
  return fromEpochDay(epochDay(date) + days);
}

/** Whole days from `from` to `to`: positive when `to` is later. */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return epochDay(to) - epochDay(from);
}

/** ISO weekday: 1 = Monday … 7 = Sunday (1970-01-01 was a Thursday). */
export function isoWeekday(date: LocalDate): number {
  return ((((epochDay(date) + 3) % 7) + 7) % 7) + 1;
}

/** Milliseconds since the epoch; for comparing instants. */
export function instantMillis(instant: Instant): number {
  return parseInstant(instant).toMillis();
}
