import { CsvError, parse } from 'csv-parse/sync';
import { isValidTimeZone } from '../schedule/local-date.js';

/** A trait value as read from a cell: numbers and booleans keep their type. */
export type TraitValue = string | number | boolean;

/** One data row of an accounts file, checked. Empty cells are null (or absent for traits). */
export interface AccountCsvRow {
  /** The row number a spreadsheet shows: the header is row 1, the first account row 2. */
  row: number;
  externalId: string;
  name: string;
  segment: string | null;
  ownerEmail: string | null;
  timeZone: string | null;
  traits: Record<string, TraitValue>;
  contact: { email: string; name: string } | null;
}

export interface AccountCsvError {
  /** Spreadsheet row: 1 is the header. */
  row: number;
  /** The header's column name, or null for a fault of the whole row or file. */
  column: string | null;
  message: string;
}

export interface AccountsCsv {
  /** Which optional columns the file has: an update changes only those. */
  columns: string[];
  /** Data rows read, the header excluded (valid or not). */
  dataRows: number;
  rows: AccountCsvRow[];
  errors: AccountCsvError[];
}

export const ACCOUNT_CSV_COLUMNS = [
  'external_id',
  'name',
  'segment',
  'owner_email',
  'time_zone',
  'contact_email',
  'contact_name',
] as const;
const REQUIRED = ['external_id', 'name'] as const;
const LIMITS: Record<string, number> = {
  external_id: 200,
  name: 200,
  segment: 80,
  owner_email: 254,
  contact_email: 254,
  contact_name: 200,
};
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TRAIT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * A cell's typed value: whole numbers (no leading zeros, so ZIP codes and ids stay text),
 * decimals and true/false keep their type; anything else is text.
 */
export function traitValue(cell: string): TraitValue {
  if (/^-?(0|[1-9]\d{0,14})$/.test(cell)) return Number(cell);
  if (/^-?(0|[1-9]\d*)\.\d+$/.test(cell) && Number.isFinite(Number(cell))) return Number(cell);
  const lower = cell.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return cell;
}

/**
 * Reads an accounts CSV (RFC 4180, UTF-8, optional BOM). Every fault is reported at once with
 * its spreadsheet row and column; unknown columns are named. Pure: no lookups of owners or
 * existing accounts (the server does those).
 */
export function parseAccountsCsv(text: string): AccountsCsv {
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as string[][];
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines ?? 1;
      return {
        columns: [],
        dataRows: 0,
        rows: [],
        errors: [{ row: line, column: null, message: `not valid CSV: ${error.message}` }],
      };
    }
    throw error;
  }
  const errors: AccountCsvError[] = [];
  const [header, ...data] = records;
  if (header === undefined) {
    return {
      columns: [],
      dataRows: 0,
      rows: [],
      errors: [{ row: 1, column: null, message: 'the file is empty: expected a header row' }],
    };
  }
  const columns = header.map((c) => c.trim());
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column)) errors.push({ row: 1, column, message: 'column appears twice' });
    seen.add(column);
    if (column.startsWith('trait.')) {
      if (!TRAIT_NAME.test(column.slice('trait.'.length)))
        errors.push({
          row: 1,
          column,
          message: 'trait names start with a letter or _ and hold letters, digits, _ . -',
        });
    } else if (!(ACCOUNT_CSV_COLUMNS as readonly string[]).includes(column)) {
      errors.push({
        row: 1,
        column,
        message: `unknown column; expected ${ACCOUNT_CSV_COLUMNS.join(', ')} or trait.<name>`,
      });
    }
  }
  for (const required of REQUIRED) {
    if (!seen.has(required))
      errors.push({ row: 1, column: required, message: 'required column is missing' });
  }
  if (errors.length > 0) return { columns, dataRows: data.length, rows: [], errors };

  // A file names a handful of zones thousands of times; checking one costs microseconds.
  const zones = new Map<string, boolean>();
  const knownZone = (zone: string) => {
    const cached = zones.get(zone);
    if (cached !== undefined) return cached;
    const known = isValidTimeZone(zone);
    zones.set(zone, known);
    return known;
  };
  const rows: AccountCsvRow[] = [];
  const firstRowOf = new Map<string, number>();
  data.forEach((cells, index) => {
    const record = cells.map((cell) => cell.trim());
    const row = index + 2;
    const before = errors.length;
    if (record.length > columns.length) {
      errors.push({
        row,
        column: null,
        message: `${record.length} cells but the header has ${columns.length} columns`,
      });
    }
    const cell = (column: string): string | null => {
      const at = columns.indexOf(column);
      const value = at < 0 ? '' : (record[at] ?? '');
      return value === '' ? null : value;
    };
    const fail = (column: string, message: string) => errors.push({ row, column, message });
    for (const [column, max] of Object.entries(LIMITS)) {
      const value = cell(column);
      if (value !== null && value.length > max) fail(column, `longer than ${max} characters`);
    }
    const externalId = cell('external_id');
    const name = cell('name');
    if (externalId === null) fail('external_id', 'required');
    else {
      const first = firstRowOf.get(externalId);
      if (first !== undefined) fail('external_id', `${externalId} is already in row ${first}`);
      else firstRowOf.set(externalId, row);
    }
    if (name === null) fail('name', 'required');
    const ownerEmail = cell('owner_email')?.toLowerCase() ?? null;
    if (ownerEmail !== null && !EMAIL.test(ownerEmail)) fail('owner_email', 'not an email address');
    const timeZone = cell('time_zone');
    if (timeZone !== null && !knownZone(timeZone))
      fail('time_zone', `${timeZone} is not an IANA time zone (e.g. Europe/Berlin)`);
    const contactEmail = cell('contact_email')?.toLowerCase() ?? null;
    const contactName = cell('contact_name');
    if (contactEmail !== null && !EMAIL.test(contactEmail))
      fail('contact_email', 'not an email address');
    if (contactEmail === null && contactName !== null)
      fail('contact_email', 'required when contact_name is given');
    const traits: Record<string, TraitValue> = {};
    columns.forEach((column, at) => {
      const value = record[at] ?? '';
      if (column.startsWith('trait.') && value !== '')
        traits[column.slice('trait.'.length)] = traitValue(value);
    });
    if (errors.length > before || externalId === null || name === null) return;
    rows.push({
      row,
      externalId,
      name,
      segment: cell('segment'),
      ownerEmail,
      timeZone,
      traits,
      contact:
        contactEmail === null ? null : { email: contactEmail, name: contactName ?? contactEmail },
    });
  });
  return { columns, dataRows: data.length, rows, errors };
}
