import { TRACKING_ACTOR } from '@waymark/core';
import { type Account, insertAccount } from '../accounts/accounts.repo.js';
import { recordAudit } from '../audit/record-audit.js';
import type { Db } from '../db/database.js';
import { newId } from '../db/ids.js';
import { findWorkspace } from '../workspaces/workspaces.repo.js';
import type { StoredEvent } from './events.repo.js';

/**
 * Where the workspace asks for it (`createAccountsFromGroups`), a group call naming an account
 * Waymark does not know creates it, named by the call's `traits.name` (else its group id), as
 * the CRM-side destinations of Segment do. Returns the accounts created.
 */
export async function createAccountsFromGroups(
  trx: Db,
  workspaceId: string,
  eventsByAccount: ReadonlyMap<string, readonly StoredEvent[]>,
  known: ReadonlyMap<string, Account>,
  now: string,
): Promise<Account[]> {
  const unknown = [...eventsByAccount].filter(
    ([key, events]) => !known.has(key) && events.some((event) => event.type === 'group'),
  );
  if (unknown.length === 0) return [];
  const workspace = await findWorkspace(trx, workspaceId);
  if (!workspace?.settings.createAccountsFromGroups) return [];
  const created: Account[] = [];
  for (const [externalId, events] of unknown) {
    const group = events.find((event) => event.type === 'group');
    const traits =
      (group && (JSON.parse(group.payload) as { traits?: { name?: unknown } }).traits) ?? {};
    const account: Account = {
      id: newId(),
      workspaceId,
      externalId,
      name: typeof traits.name === 'string' && traits.name.trim() !== '' ? traits.name : externalId,
      segment: null,
      ownerUserId: null,
      timeZone: null,
      traits: {},
      outcome: null,
      createdAt: now,
      updatedAt: now,
    };
    await insertAccount(trx, account);
    await recordAudit(
      trx,
      workspaceId,
      now,
      TRACKING_ACTOR,
      'account.created',
      { type: 'account', id: account.id },
      { after: { externalId, name: account.name }, context: { fromEvent: group?.message_id } },
    );
    created.push(account);
  }
  return created;
}
