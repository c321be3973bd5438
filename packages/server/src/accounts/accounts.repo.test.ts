import { expect, it } from 'vitest';
import { newId } from '../db/ids.js';
import { describeEngines } from '../testing/describe-engines.js';
import { makeAccount, makeUser, makeWorkspace, T0 } from '../testing/factories.js';
import {
  findAccount,
  findAccountByExternalId,
  insertContact,
  listAccounts,
  listContacts,
  updateAccount,
} from './accounts.repo.js';

describeEngines('accounts repository', (use) => {
  it('round-trips an account with traits, outcome and owner', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    const csm = await makeUser(db, ws.id, 'csm');
    const traits = {
      plan: 'enterprise',
      seats: 120,
      crm_sync: 'bidirectional',
      tags: ['pilot'],
      nested: { a: null },
    };
    const made = await makeAccount(db, ws.id, {
      ownerUserId: csm.id,
      traits,
      outcome: { renewed: true, nps: 9 },
      timeZone: 'Europe/Berlin',
    });
    expect(await findAccount(db, ws.id, made.id)).toEqual(made);
    expect(await findAccountByExternalId(db, ws.id, made.externalId)).toEqual(made);
  });

  it('never returns another workspace’s account', async () => {
    const { db } = use();
    const mine = await makeWorkspace(db);
    const theirs = await makeWorkspace(db);
    const account = await makeAccount(db, theirs.id);
    expect(await findAccount(db, mine.id, account.id)).toBeUndefined();
    expect(await findAccountByExternalId(db, mine.id, account.externalId)).toBeUndefined();
    expect(await listAccounts(db, mine.id)).toEqual([]);
    expect(await updateAccount(db, mine.id, account.id, { name: 'hijacked' }, T0)).toBe(false);
    expect((await findAccount(db, theirs.id, account.id))?.name).toBe(account.name);
  });

  it('refuses a second account with the same external id in a workspace', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    await makeAccount(db, ws.id, { externalId: 'org_1' });
    await expect(makeAccount(db, ws.id, { externalId: 'org_1' })).rejects.toThrow();
    const other = await makeWorkspace(db);
    await expect(makeAccount(db, other.id, { externalId: 'org_1' })).resolves.toBeDefined();
  });

  it('pages through accounts by name without gaps or repeats', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    const names = ['Delta', 'alpha', 'Bravo', 'Bravo', 'Charlie', 'Echo', 'Foxtrot'];
    const made = await Promise.all(names.map((name) => makeAccount(db, ws.id, { name })));
    const seen: string[] = [];
    let after: { name: string; id: string } | undefined;
    for (;;) {
      const page = await listAccounts(db, ws.id, { limit: 3, ...(after && { after }) });
      if (page.length === 0) break;
      seen.push(...page.map((a) => a.id));
      const last = page[page.length - 1];
      if (!last) break;
      after = { name: last.name, id: last.id };
    }
    expect(seen).toHaveLength(made.length);
    expect(new Set(seen)).toEqual(new Set(made.map((a) => a.id)));
  });

  it('filters by segment and updates only what is given', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    const smb = await makeAccount(db, ws.id, { segment: 'SMB' });
    await makeAccount(db, ws.id, { segment: 'Enterprise' });
    expect((await listAccounts(db, ws.id, { segment: 'SMB' })).map((a) => a.id)).toEqual([smb.id]);
    const later = '2026-04-01T00:00:00.000Z';
    expect(
      await updateAccount(
        db,
        ws.id,
        smb.id,
        { segment: 'Mid-Market', traits: { seats: 3 } },
        later,
      ),
    ).toBe(true);
    expect(await findAccount(db, ws.id, smb.id)).toEqual({
      ...smb,
      segment: 'Mid-Market',
      traits: { seats: 3 },
      updatedAt: later,
    });
  });

  it('keeps contacts per account, emails folded to lower case', async () => {
    const { db } = use();
    const ws = await makeWorkspace(db);
    const account = await makeAccount(db, ws.id);
    const contact = {
      id: newId(),
      workspaceId: ws.id,
      accountId: account.id,
      email: 'Pat.Lead@Customer.example',
      name: 'Pat Lead',
      title: 'Project lead',
      createdAt: T0,
      updatedAt: T0,
    };
    await insertContact(db, contact);
    expect(await listContacts(db, ws.id, account.id)).toEqual([
      { ...contact, email: 'pat.lead@customer.example' },
    ]);
    expect(await listContacts(db, (await makeWorkspace(db)).id, account.id)).toEqual([]);
  });
});
