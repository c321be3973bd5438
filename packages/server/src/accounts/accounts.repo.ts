import type { Insertable, Selectable } from 'kysely';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Db } from '../db/database.js';
import type { AccountsTable, ContactsTable } from '../db/schema.js';

export type Traits = Record<string, unknown>;

export interface Account {
  id: string;
  workspaceId: string;
  /** The customer's id in the product: Segment's `groupId`. */
  externalId: string;
  name: string;
  segment: string | null;
  ownerUserId: string | null;
  /** Falls back to the workspace's time zone when null. */
  timeZone: string | null;
  traits: Traits;
  /** Renewal, churn, NDR, NPS once known. */
  outcome: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export interface Contact {
  id: string;
  workspaceId: string;
  accountId: string;
  email: string;
  name: string;
  title: string | null;
  createdAt: string;
  updatedAt: string;
}

export function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    externalId: row.external_id,
    name: row.name,
    segment: row.segment,
    ownerUserId: row.owner_user_id,
    timeZone: row.time_zone,
    traits: fromDbJson<Traits>(row.traits),
    outcome: fromDbJson<Record<string, unknown>>(row.outcome),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toContact(row: Selectable<ContactsTable>): Contact {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    accountId: row.account_id,
    email: row.email,
    name: row.name,
    title: row.title,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** An account as its row is written. */
export function accountRow(account: Account): Insertable<AccountsTable> {
  return {
    id: account.id,
    workspace_id: account.workspaceId,
    external_id: account.externalId,
    name: account.name,
    segment: account.segment,
    owner_user_id: account.ownerUserId,
    time_zone: account.timeZone,
    traits: toDbJson(account.traits),
    outcome: account.outcome === null ? null : toDbJson(account.outcome),
    created_at: account.createdAt,
    updated_at: account.updatedAt,
  };
}

export async function insertAccount(db: Db, account: Account): Promise<void> {
  await db.insertInto('accounts').values(accountRow(account)).execute();
}

export async function findAccount(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<Account | undefined> {
  const row = await db
    .selectFrom('accounts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toAccount(row);
}

export async function findAccountByExternalId(
  db: Db,
  workspaceId: string,
  externalId: string,
): Promise<Account | undefined> {
  const row = await db
    .selectFrom('accounts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row && toAccount(row);
}

/** Keyset pagination by name then id, so pages stay stable while accounts are added. */
export async function listAccounts(
  db: Db,
  workspaceId: string,
  {
    segment,
    limit = 50,
    after,
  }: { segment?: string; limit?: number; after?: { name: string; id: string } } = {},
): Promise<Account[]> {
  let query = db.selectFrom('accounts').selectAll().where('workspace_id', '=', workspaceId);
  if (segment !== undefined) query = query.where('segment', '=', segment);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('name', '>', after.name),
        eb.and([eb('name', '=', after.name), eb('id', '>', after.id)]),
      ]),
    );
  }
  const rows = await query.orderBy('name').orderBy('id').limit(limit).execute();
  return rows.map(toAccount);
}

export async function updateAccount(
  db: Db,
  workspaceId: string,
  id: string,
  changes: Partial<
    Pick<Account, 'name' | 'segment' | 'ownerUserId' | 'timeZone' | 'traits' | 'outcome'>
  >,
  at: string,
): Promise<boolean> {
  const result = await db
    .updateTable('accounts')
    .set({
      ...(changes.name !== undefined && { name: changes.name }),
      ...(changes.segment !== undefined && { segment: changes.segment }),
      ...(changes.ownerUserId !== undefined && { owner_user_id: changes.ownerUserId }),
      ...(changes.timeZone !== undefined && { time_zone: changes.timeZone }),
      ...(changes.traits !== undefined && { traits: toDbJson(changes.traits) }),
      ...(changes.outcome !== undefined && {
        outcome: changes.outcome === null ? null : toDbJson(changes.outcome),
      }),
      updated_at: at,
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function insertContact(db: Db, contact: Contact): Promise<void> {
  await db
    .insertInto('contacts')
    .values({
      id: contact.id,
      workspace_id: contact.workspaceId,
      account_id: contact.accountId,
      email: contact.email.toLowerCase(),
      name: contact.name,
      title: contact.title,
      created_at: contact.createdAt,
      updated_at: contact.updatedAt,
    })
    .execute();
}

export async function listContacts(
  db: Db,
  workspaceId: string,
  accountId: string,
): Promise<Contact[]> {
  const rows = await db
    .selectFrom('contacts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('account_id', '=', accountId)
    .orderBy('email')
    .execute();
  return rows.map(toContact);
}
