import {
  type AccountCsvError,
  type AccountCsvRow,
  type Actor,
  parseAccountsCsv,
} from '@waymark/core';
import { appendAuditEvents } from '../audit/audit.repo.js';
import { toDbJson } from '../db/codec.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import { type Account, accountRow } from './accounts.repo.js';
import { findAccountsByExternalIds, findContactNames } from './accounts-import.repo.js';

export interface ImportReport {
  /** True when every row can be imported. */
  valid: boolean;
  /** Data rows read (the header excluded). */
  rows: number;
  creates: number;
  updates: number;
  /** Rows naming an existing account whose fields would not change. */
  unchanged: number;
  errors: AccountCsvError[];
}

export interface ImportOptions {
  workspaceId: string;
  actor: Actor;
  at: string;
  dryRun: boolean;
  /** Called as rows are checked and written: `done` of `total` steps. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Statements bind at most 999 parameters on older SQLite builds; every batch stays under that
 * whatever its column count.
 */
const MAX_PARAMETERS = 999;
const chunk = <T>(items: readonly T[], columns: number): T[][] => {
  const size = Math.max(1, Math.floor(MAX_PARAMETERS / columns));
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

type Planned =
  | { kind: 'create'; row: AccountCsvRow; after: Account }
  | { kind: 'update'; row: AccountCsvRow; before: Account; after: Account }
  | { kind: 'unchanged'; row: AccountCsvRow; before: Account };

const snapshot = ({ workspaceId: _w, ...account }: Account) => account;
const sameFields = (a: Account, b: Account) =>
  toDbJson([a.name, a.segment, a.ownerUserId, a.timeZone, a.traits]) ===
  toDbJson([b.name, b.segment, b.ownerUserId, b.timeZone, b.traits]);

async function plan(db: Db, csv: string, options: ImportOptions) {
  const { workspaceId, at } = options;
  const parsed = parseAccountsCsv(csv);
  const errors = [...parsed.errors];
  const has = new Set(parsed.columns);
  const owners = new Map(
    (
      await db
        .selectFrom('users')
        .select(['id', 'email'])
        .where('workspace_id', '=', workspaceId)
        .execute()
    ).map((u) => [u.email.toLowerCase(), u.id]),
  );
  const existing = await findAccountsByExternalIds(
    db,
    workspaceId,
    parsed.rows.map((r) => r.externalId),
  );
  const contactNames = await findContactNames(
    db,
    workspaceId,
    [...existing.values()].map((a) => a.id),
  );
  const planned: Planned[] = [];
  for (const row of parsed.rows) {
    let ownerUserId: string | null = null;
    if (row.ownerEmail !== null) {
      const owner = owners.get(row.ownerEmail);
      if (owner === undefined) {
        errors.push({
          row: row.row,
          column: 'owner_email',
          message: `${row.ownerEmail} is not a person of this workspace`,
        });
        continue;
      }
      ownerUserId = owner;
    }
    const before = existing.get(row.externalId);
    if (before === undefined) {
      planned.push({
        kind: 'create',
        row,
        after: {
          id: newId(),
          workspaceId,
          externalId: row.externalId,
          name: row.name,
          segment: row.segment,
          ownerUserId,
          timeZone: row.timeZone,
          traits: row.traits,
          outcome: null,
          createdAt: at,
          updatedAt: at,
        },
      });
      continue;
    }
    // An update changes only the columns the file has; traits are merged, cell by cell.
    const after: Account = {
      ...before,
      name: row.name,
      ...(has.has('segment') && { segment: row.segment }),
      ...(has.has('owner_email') && { ownerUserId }),
      ...(has.has('time_zone') && { timeZone: row.timeZone }),
      traits: { ...before.traits, ...row.traits },
      updatedAt: at,
    };
    planned.push(
      sameFields(before, after) &&
        (row.contact === null ||
          contactNames.get(`${before.id} ${row.contact.email}`) === row.contact.name)
        ? { kind: 'unchanged', row, before }
        : { kind: 'update', row, before, after },
    );
  }
  errors.sort((a, b) => a.row - b.row);
  const count = (kind: Planned['kind']) => planned.filter((p) => p.kind === kind).length;
  const report: ImportReport = {
    valid: errors.length === 0,
    rows: parsed.dataRows,
    creates: count('create'),
    updates: count('update'),
    unchanged: count('unchanged'),
    errors,
  };
  return { report, planned };
}

async function write(db: Db, planned: Planned[], options: ImportOptions): Promise<void> {
  const { workspaceId, at, actor } = options;
  const changes = planned.filter((p) => p.kind !== 'unchanged');
  const total = changes.length * 2;
  let done = 0;
  const idOf = new Map<string, string>();
  for (const batch of chunk(changes, 11)) {
    const stored = await db
      .insertInto('accounts')
      .values(batch.map(({ after }) => accountRow(after)))
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'external_id']).doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'),
          segment: eb.ref('excluded.segment'),
          owner_user_id: eb.ref('excluded.owner_user_id'),
          time_zone: eb.ref('excluded.time_zone'),
          traits: eb.ref('excluded.traits'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .returning(['id', 'external_id'])
      .execute();
    // The stored id wins: a row created concurrently since the plan keeps its own.
    for (const { id, external_id } of stored) idOf.set(external_id, id);
    done += batch.length;
    options.onProgress?.(done, total);
  }
  const contacts = changes.flatMap(({ row, after }) =>
    row.contact === null
      ? []
      : [{ accountId: idOf.get(after.externalId) ?? after.id, ...row.contact }],
  );
  for (const batch of chunk(contacts, 8)) {
    await db
      .insertInto('contacts')
      .values(
        batch.map((c) => ({
          id: newId(),
          workspace_id: workspaceId,
          account_id: c.accountId,
          email: c.email,
          name: c.name,
          title: null,
          created_at: at,
          updated_at: at,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['account_id', 'email']).doUpdateSet((eb) => ({
          name: eb.ref('excluded.name'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  for (const batch of chunk(changes, 10)) {
    await appendAuditEvents(
      db,
      batch.map((p) => ({
        workspaceId,
        occurredAt: at,
        actor,
        action: p.kind === 'create' ? 'account.created' : 'account.updated',
        entity: { type: 'account', id: idOf.get(p.after.externalId) ?? p.after.id },
        ...(p.kind === 'update' && { before: snapshot(p.before) }),
        after: snapshot({ ...p.after, id: idOf.get(p.after.externalId) ?? p.after.id }),
        context: {
          source: 'csv-import',
          row: p.row.row,
          ...(p.row.contact !== null && { contact: p.row.contact }),
        },
      })),
    );
    done += batch.length;
    options.onProgress?.(done, total);
  }
}

/**
 * Imports accounts from CSV, all or nothing: an existing external id is updated, a new one
 * created, and one audit event is appended per created or updated account, in one
 * transaction. With any fault nothing is written and the report lists every fault by row.
 */
export async function importAccounts(
  db: Db,
  csv: string,
  options: ImportOptions,
): Promise<ImportReport> {
  if (options.dryRun) return (await plan(db, csv, options)).report;
  return db.transaction().execute(async (trx) => {
    const { report, planned } = await plan(trx, csv, options);
    if (report.valid) await write(trx, planned, options);
    return report;
  });
}
