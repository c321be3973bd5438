import type { Db } from '../db/database.js';
import { type Account, toAccount } from './accounts.repo.js';

/** Accounts of the workspace by external id, looked up a few hundred at a time. */
export async function findAccountsByExternalIds(
  db: Db,
  workspaceId: string,
  externalIds: readonly string[],
): Promise<Map<string, Account>> {
  const found = new Map<string, Account>();
  for (let i = 0; i < externalIds.length; i += 500) {
    const rows = await db
      .selectFrom('accounts')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('external_id', 'in', externalIds.slice(i, i + 500))
      .execute();
    for (const row of rows) found.set(row.external_id, toAccount(row));
  }
  return found;
}

/** Contact names by `<accountId> <email>` for the given accounts. */
export async function findContactNames(
  db: Db,
  workspaceId: string,
  accountIds: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < accountIds.length; i += 500) {
    const rows = await db
      .selectFrom('contacts')
      .select(['account_id', 'email', 'name'])
      .where('workspace_id', '=', workspaceId)
      .where('account_id', 'in', accountIds.slice(i, i + 500))
      .execute();
    for (const row of rows) found.set(`${row.account_id} ${row.email}`, row.name);
  }
  return found;
}
