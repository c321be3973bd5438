import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import { makeAccount } from '../testing/factories.js';
import {
  call,
  type Member,
  newWorkspace,
  type Response,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import type { Workspace } from '../workspaces/workspaces.repo.js';
import { listContacts } from './accounts.repo.js';

describe.each(testEngines())('importing accounts from CSV [%s]', (engine) => {
  let server: TestServer;
  let workspace: Workspace;
  let admin: Member;
  let viewer: Member;

  async function postCsv(csv: string, query = '', as: Member = admin) {
    const response = await fetch(`${server.url}/api/v1/accounts/import${query}`, {
      method: 'POST',
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        cookie: as.cookie,
        'x-csrf-token': as.csrfToken,
      },
      body: csv,
    });
    const json: Response['json'] = await response.json();
    return { status: response.status, json };
  }
  const countAccounts = async () =>
    (
      await server.database.db
        .selectFrom('accounts')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('workspace_id', '=', workspace.id)
        .executeTakeFirstOrThrow()
    ).n;

  beforeAll(async () => {
    server = await startTestServer(engine);
    workspace = await newWorkspace(server);
    admin = await signedInMember(server, workspace, 'admin');
    viewer = await signedInMember(server, workspace, 'viewer');
    await makeAccount(server.database.db, workspace.id, {
      externalId: 'org_existing',
      name: 'Old name',
      segment: 'SMB',
      traits: { plan: 'starter', seats: 3 },
    });
  });
  afterAll(async () => server.close());

  const header =
    'external_id,name,segment,owner_email,time_zone,trait.plan,trait.seats,contact_email,contact_name';

  it('previews a dry run without writing, counting creates and updates', async () => {
    const csv = [
      header,
      `org_new,New Co,Enterprise,${admin.email},Europe/Berlin,pro,40,ann@new.co,Ann`,
      'org_existing,Renamed Co,,,,,12,,',
    ].join('\n');
    const before = await countAccounts();
    const preview = await postCsv(csv, '?dryRun=true');
    expect(preview).toEqual({
      status: 200,
      json: {
        valid: true,
        dryRun: true,
        rows: 2,
        creates: 1,
        updates: 1,
        unchanged: 0,
        errors: [],
      },
    });
    expect(await countAccounts()).toEqual(before);
  });

  it('imports all rows, updating an existing external id instead of duplicating it', async () => {
    const csv = [
      header,
      `org_new,New Co,Enterprise,${admin.email.toUpperCase()},Europe/Berlin,pro,40,ann@new.co,Ann`,
      'org_existing,Renamed Co,,,,,12,,',
    ].join('\n');
    const result = await postCsv(csv);
    expect(result.json).toMatchObject({ valid: true, dryRun: false, creates: 1, updates: 1 });
    const list = await call(server, 'GET', '/api/v1/accounts?limit=500', { as: admin });
    const byId = new Map(list.json.accounts.map((a: { externalId: string }) => [a.externalId, a]));
    expect(byId.size).toBe(2);
    expect(byId.get('org_new')).toMatchObject({
      name: 'New Co',
      segment: 'Enterprise',
      ownerUserId: admin.userId,
      timeZone: 'Europe/Berlin',
      traits: { plan: 'pro', seats: 40 },
    });
    // Empty cells clear the columns the file has; traits merge cell by cell.
    expect(byId.get('org_existing')).toMatchObject({
      name: 'Renamed Co',
      segment: null,
      traits: { plan: 'starter', seats: 12 },
    });
    const created = byId.get('org_new') as { id: string };
    expect(await listContacts(server.database.db, workspace.id, created.id)).toMatchObject([
      { email: 'ann@new.co', name: 'Ann' },
    ]);
    const trail = await call(server, 'GET', '/api/v1/audit-events?entityType=account', {
      as: admin,
    });
    const actions = trail.json.events.map(
      (e: { action: string; after: { externalId: string } }) => `${e.action} ${e.after.externalId}`,
    );
    expect(actions.sort()).toEqual(['account.created org_new', 'account.updated org_existing']);
    const updated = trail.json.events.find(
      (e: { action: string }) => e.action === 'account.updated',
    );
    expect(updated.before).toMatchObject({ name: 'Old name', segment: 'SMB' });
    expect(updated.context).toMatchObject({ source: 'csv-import', row: 3 });

    const again = await postCsv(csv);
    expect(again.json).toMatchObject({ creates: 0, updates: 0, unchanged: 2 });
  });

  it('writes nothing when any row is wrong, and reports every row', async () => {
    const before = await countAccounts();
    const csv = [
      header,
      'org_ok_1,Fine,,,,,,,',
      'org_bad_tz,Bad zone,,,Mars/Base,,,,',
      'org_bad_owner,Bad owner,,nobody@example.com,,,,,',
      ',No id,,,,,,,',
    ].join('\n');
    const result = await postCsv(csv);
    expect(result.status).toBe(400);
    expect(result.json.type).toBe('urn:waymark:problem:import-invalid');
    expect(result.json.report.errors).toEqual([
      { row: 3, column: 'time_zone', message: expect.stringContaining('IANA') },
      {
        row: 4,
        column: 'owner_email',
        message: 'nobody@example.com is not a person of this workspace',
      },
      { row: 5, column: 'external_id', message: 'required' },
    ]);
    expect(result.json.errors[0]).toEqual({
      field: 'row 3.time_zone',
      message: expect.stringContaining('IANA'),
    });
    expect(await countAccounts()).toEqual(before);

    const preview = await postCsv(csv, '?dryRun=true');
    expect(preview.status).toBe(200);
    expect(preview.json).toMatchObject({ valid: false, creates: 1, rows: 4 });
    expect(preview.json.errors).toHaveLength(3);

    const unknown = await postCsv('external_id,name,colour\nx,y,red\n', '?dryRun=true');
    expect(unknown.json.errors).toEqual([
      { row: 1, column: 'colour', message: expect.stringContaining('unknown column') },
    ]);
  });

  it('imports more rows than one statement may bind, in one go', async () => {
    const rows = Array.from(
      { length: 1_234 },
      (_, i) => `bulk_${i},Bulk ${i},SMB,,,plan${i % 3},${i},c${i}@bulk.example,C ${i}`,
    );
    const before = Number(await countAccounts());
    const result = await postCsv([header, ...rows].join('\n'));
    expect(result.json).toMatchObject({ valid: true, creates: 1_234 });
    expect(Number(await countAccounts())).toBe(before + 1_234);
  });

  it('takes files above the default 1 MB body limit', async () => {
    const note = 'x'.repeat(400);
    const rows = Array.from({ length: 3_000 }, (_, i) => `big_${i},Big ${i},${note}`);
    const csv = ['external_id,name,trait.note', ...rows].join('\n');
    expect(csv.length).toBeGreaterThan(1024 * 1024);
    const preview = await postCsv(csv, '?dryRun=true');
    expect(preview.status).toBe(200);
    expect(preview.json).toMatchObject({ valid: true, creates: 3_000 });
  });

  it('takes text/csv only, and needs accounts:write', async () => {
    const json = await call(server, 'POST', '/api/v1/accounts/import', {
      as: admin,
      body: 'external_id,name\nx,y',
    });
    expect(json.status).toBe(415);
    expect((await postCsv('external_id,name\nx,y', '', viewer)).status).toBe(403);
  });
});
