import {
  completeMilestone,
  initialProgress,
  type ProgramDefinition,
  parseProgramYaml,
} from '@waymark/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../db/ids.js';
import { insertEnrollment } from '../enrollments/enrollments.repo.js';
import { listProgress, saveProgress } from '../enrollments/progress.repo.js';
import { testEngines } from '../testing/engines.js';
import { enrollmentOf, makeAccount, T0, threeStepProgram } from '../testing/factories.js';
import {
  call,
  type Member,
  newWorkspace,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import type { Workspace } from '../workspaces/workspaces.repo.js';
import { definitionHash } from './definition-hash.js';

const withKey = (key: string, extra: Partial<ProgramDefinition> = {}): ProgramDefinition => ({
  ...threeStepProgram,
  key,
  ...extra,
});

const redated = (program: ProgramDefinition, key: string, targetDay: number) => ({
  ...program,
  milestones: program.milestones.map((m) => (m.key === key ? { ...m, targetDay } : m)),
});

describe.each(testEngines())('programs over REST [%s]', (engine) => {
  let server: TestServer;
  let workspace: Workspace;
  let admin: Member;
  let viewer: Member;

  beforeAll(async () => {
    server = await startTestServer(engine);
    workspace = await newWorkspace(server);
    admin = await signedInMember(server, workspace, 'admin');
    viewer = await signedInMember(server, workspace, 'viewer');
  });
  afterAll(async () => server.close());

  it('creates a program as a draft version 1, lists it, and audits both', async () => {
    const created = await call(server, 'POST', '/api/v1/programs', {
      as: admin,
      body: { definition: withKey('created') },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      program: { key: 'created', name: threeStepProgram.name },
      version: { version: 1, status: 'draft', publishedAt: null },
      changed: true,
      outcome: 'created',
    });
    expect(created.json.version.definitionHash).toBe(definitionHash(withKey('created')));

    const list = await call(server, 'GET', '/api/v1/programs', { as: viewer });
    expect(list.status).toBe(200);
    expect(list.json.programs.find((p: { key: string }) => p.key === 'created')).toMatchObject({
      latestVersion: 1,
      latestPublishedVersion: null,
      draftVersion: 1,
    });
    const one = await call(server, 'GET', '/api/v1/programs/created', { as: viewer });
    expect(one.json.versions).toHaveLength(1);
    const events = await call(server, 'GET', '/api/v1/audit-events?limit=200', { as: admin });
    const actions = events.json.events
      .filter((e: { entity: { id: string } }) => [created.json.program.id].includes(e.entity.id))
      .map((e: { action: string }) => e.action);
    expect(actions).toContain('program.created');
    expect(
      events.json.events.some(
        (e: { action: string; after: { programKey?: string } }) =>
          e.action === 'program_version.created' && e.after.programKey === 'created',
      ),
    ).toBe(true);

    const again = await call(server, 'POST', '/api/v1/programs', {
      as: admin,
      body: { definition: withKey('created') },
    });
    expect(again.status).toBe(409);
  });

  it('accepts YAML as well', async () => {
    const yaml = [
      'key: from-yaml',
      'name: From YAML',
      'phases:',
      '  - { key: all, name: All, startDay: 0, endDay: 30 }',
      'milestones:',
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: 3',
      '',
    ].join('\n');
    const created = await call(server, 'POST', '/api/v1/programs', { as: admin, body: { yaml } });
    expect(created.status).toBe(201);
    expect(created.json.program.key).toBe('from-yaml');
  });

  it('saves versions idempotently: unchanged, draft edited in place, new draft after publishing', async () => {
    const v1 = withKey('versioned');
    await call(server, 'POST', '/api/v1/programs', { as: admin, body: { definition: v1 } });
    const path = '/api/v1/programs/versioned/versions';

    const same = await call(server, 'POST', path, { as: admin, body: { definition: v1 } });
    expect(same.status).toBe(200);
    expect(same.json).toMatchObject({
      changed: false,
      outcome: 'unchanged',
      version: { version: 1 },
    });

    // Key order and defaults left out do not make a different definition.
    const reordered = Object.fromEntries(Object.entries(v1).reverse());
    delete reordered.schedule;
    const alsoSame = await call(server, 'POST', path, {
      as: admin,
      body: { definition: reordered },
    });
    expect(alsoSame.json.changed).toBe(false);

    const edited = redated(v1, 'training', 20);
    const inPlace = await call(server, 'POST', path, { as: admin, body: { definition: edited } });
    expect(inPlace.status).toBe(200);
    expect(inPlace.json).toMatchObject({
      changed: true,
      outcome: 'draft_updated',
      version: { version: 1, status: 'draft' },
    });
    const all = await call(server, 'GET', '/api/v1/audit-events?limit=200', { as: admin });
    const update = all.json.events.find(
      (e: { action: string; after: { programKey?: string } }) =>
        e.action === 'program_version.updated' && e.after.programKey === 'versioned',
    );
    expect(update.before.definition.milestones[2].targetDay).toBe(18);
    expect(update.after.definition.milestones[2].targetDay).toBe(20);

    const publish = await call(server, 'POST', '/api/v1/programs/versioned/versions/1/publish', {
      as: admin,
    });
    expect(publish.status).toBe(200);
    expect(publish.json).toMatchObject({
      version: 1,
      status: 'published',
      publishedAt: server.clock(),
    });
    const twice = await call(server, 'POST', '/api/v1/programs/versioned/versions/1/publish', {
      as: admin,
    });
    expect(twice.status).toBe(409);
    expect(twice.headers.get('content-type')).toContain('application/problem+json');

    // The published version never changes: the next change is version 2, a draft.
    const v2 = redated(edited, 'kickoff', 5);
    const next = await call(server, 'POST', path, { as: admin, body: { definition: v2 } });
    expect(next.status).toBe(201);
    expect(next.json).toMatchObject({
      outcome: 'draft_created',
      version: { version: 2, status: 'draft' },
    });
    const v1Now = await call(server, 'GET', '/api/v1/programs/versioned/versions/1', {
      as: viewer,
    });
    expect(v1Now.json.definition.milestones[2].targetDay).toBe(20);
    expect(v1Now.json.definition.milestones[0].targetDay).toBe(3);
    const unchanged = await call(server, 'POST', path, { as: admin, body: { definition: v2 } });
    expect(unchanged.json).toMatchObject({ changed: false, version: { version: 2 } });

    const detail = await call(server, 'GET', '/api/v1/programs/versioned', { as: viewer });
    expect(detail.json).toMatchObject({
      latestVersion: 2,
      latestPublishedVersion: 1,
      draftVersion: 2,
    });
    expect(detail.json.versions.map((v: { status: string }) => v.status)).toEqual([
      'published',
      'draft',
    ]);

    const wrongKey = await call(server, 'POST', path, {
      as: admin,
      body: { definition: withKey('other') },
    });
    expect(wrongKey.status).toBe(400);
    expect(wrongKey.json.errors[0].field).toBe('definition.key');
  });

  it('returns a version as YAML that reads back to the same definition', async () => {
    await call(server, 'POST', '/api/v1/programs', {
      as: admin,
      body: { definition: withKey('exported') },
    });
    const yaml = await call(server, 'GET', '/api/v1/programs/exported/versions/1?format=yaml', {
      as: viewer,
    });
    expect(yaml.status).toBe(200);
    expect(yaml.headers.get('content-type')).toContain('application/yaml');
    const parsed = parseProgramYaml(yaml.text, 'exported.yaml');
    expect(parsed.ok && parsed.value).toEqual(withKey('exported'));
    const missing = await call(server, 'GET', '/api/v1/programs/exported/versions/9', {
      as: viewer,
    });
    expect(missing.status).toBe(404);
  });

  it('refuses an invalid definition naming each field, and saves nothing', async () => {
    const broken = {
      ...withKey('broken'),
      milestones: [
        ...threeStepProgram.milestones.slice(0, 2),
        { ...threeStepProgram.milestones[2], dependsOn: ['nowhere'] },
      ],
    };
    const res = await call(server, 'POST', '/api/v1/programs', {
      as: admin,
      body: { definition: broken },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.json.errors).toEqual([
      expect.objectContaining({ field: 'definition.milestones[2].dependsOn[0]' }),
    ]);
    expect(res.json.errors[0].message).toContain('nowhere');
    expect((await call(server, 'GET', '/api/v1/programs/broken', { as: admin })).status).toBe(404);

    const neither = await call(server, 'POST', '/api/v1/programs', { as: admin, body: {} });
    expect(neither.status).toBe(400);
  });

  it('places YAML faults at their line and column', async () => {
    const yaml = [
      'key: bad-yaml',
      'name: Bad',
      'phases:',
      '  - { key: all, name: All, startDay: 0, endDay: 30 }',
      'milestones:',
      '  - key: kickoff',
      '    title: Kickoff',
      '    phase: all',
      '    targetDay: soon',
      '',
    ].join('\n');
    const res = await call(server, 'POST', '/api/v1/programs', { as: admin, body: { yaml } });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([
      expect.objectContaining({ field: 'yaml.milestones[0].targetDay', line: 9, column: 16 }),
    ]);
    expect((await call(server, 'GET', '/api/v1/programs/bad-yaml', { as: admin })).status).toBe(
      404,
    );
  });

  it('lets a viewer read but not write', async () => {
    const res = await call(server, 'POST', '/api/v1/programs', {
      as: viewer,
      body: { definition: withKey('by-viewer') },
    });
    expect(res.status).toBe(403);
  });

  it('documents both the JSON and the YAML answer of a version in the OpenAPI document', async () => {
    const doc = (await call(server, 'GET', '/api/openapi.json')).json;
    const content =
      doc.paths['/api/v1/programs/{programKey}/versions/{version}'].get.responses['200'].content;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'application/yaml']);
    expect(content['application/yaml'].schema.type).toBe('string');
    expect(content['application/json'].schema.properties.definition).toBeDefined();
    const list = doc.paths['/api/v1/programs'].get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toContain('archived');
  });

  describe('concurrent creation of one key', () => {
    it('creates it once and answers every other request 409, whatever its definition', async () => {
      for (const [round, renamed] of [
        [1, false],
        [2, true],
        [3, true],
      ] as const) {
        const key = `raced-${round}`;
        const bodies = [0, 1, 2].map((i) => ({
          definition: withKey(key, renamed && i > 0 ? { name: `Other name ${i}` } : {}),
        }));
        const answers = await Promise.all(
          bodies.map((body) => call(server, 'POST', '/api/v1/programs', { as: admin, body })),
        );
        const statuses = answers.map((a) => a.status).sort();
        expect(statuses, answers.map((a) => a.text).join('\n')).toEqual([201, 409, 409]);
        for (const refused of answers.filter((a) => a.status === 409)) {
          expect(refused.headers.get('content-type')).toContain('application/problem+json');
          expect(refused.json).toMatchObject({ title: 'Program exists', status: 409 });
        }
        const one = await call(server, 'GET', `/api/v1/programs/${key}`, { as: viewer });
        expect(one.json.versions).toHaveLength(1);
      }
    });
  });

  describe('archiving', () => {
    const listed = async (query = '') =>
      (await call(server, 'GET', `/api/v1/programs${query}`, { as: viewer })).json.programs.map(
        (p: { key: string }) => p.key,
      );
    const enroll = (accountId: string, programKey: string) =>
      call(server, 'POST', `/api/v1/accounts/${accountId}/enrollments`, {
        as: admin,
        body: { programKey },
      });

    it('hides the program, refuses new versions and enrollments, keeps enrollments going, and undoes', async () => {
      const v1 = withKey('retired');
      await call(server, 'POST', '/api/v1/programs', { as: admin, body: { definition: v1 } });
      await call(server, 'POST', '/api/v1/programs/retired/versions/1/publish', { as: admin });
      const first = await makeAccount(server.database.db, workspace.id);
      const enrolled = await enroll(first.id, 'retired');
      expect(enrolled.status, enrolled.text).toBe(201);
      // A draft v2, saved before archiving.
      const v2 = redated(v1, 'training', 25);
      await call(server, 'POST', '/api/v1/programs/retired/versions', {
        as: admin,
        body: { definition: v2 },
      });

      const byViewer = await call(server, 'POST', '/api/v1/programs/retired/archive', {
        as: viewer,
      });
      expect(byViewer.status).toBe(403);

      server.clock.advance(60_000);
      const archivedAt = server.clock();
      const archived = await call(server, 'POST', '/api/v1/programs/retired/archive', {
        as: admin,
      });
      expect(archived.status, archived.text).toBe(200);
      expect(archived.json).toMatchObject({
        key: 'retired',
        archivedAt,
        updatedAt: archivedAt,
        latestPublishedVersion: 1,
        draftVersion: 2,
      });
      expect(archived.json.versions).toHaveLength(2);

      // Archiving again changes nothing and records nothing.
      server.clock.advance(60_000);
      const again = await call(server, 'POST', '/api/v1/programs/retired/archive', { as: admin });
      expect(again.status).toBe(200);
      expect(again.json.archivedAt).toBe(archivedAt);

      expect(await listed()).not.toContain('retired');
      expect(await listed('?archived=only')).toEqual(['retired']);
      const all = await listed('?archived=include');
      expect(all).toContain('retired');
      expect(all).toContain('versioned');
      const unknown = await call(server, 'GET', '/api/v1/programs?archived=yes', { as: viewer });
      expect(unknown.status).toBe(400);
      const detail = await call(server, 'GET', '/api/v1/programs/retired', { as: viewer });
      expect(detail.json.archivedAt).toBe(archivedAt);

      // Nothing new: no enrollment, no version, no publishing, no second program by that key.
      const second = await makeAccount(server.database.db, workspace.id);
      const refused = await enroll(second.id, 'retired');
      expect(refused.status).toBe(409);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.json).toMatchObject({
        type: 'urn:waymark:problem:program-archived',
        title: 'Program archived',
        archivedAt,
      });
      expect(refused.json.detail).toContain('unarchive');
      const newVersion = await call(server, 'POST', '/api/v1/programs/retired/versions', {
        as: admin,
        body: { definition: redated(v1, 'kickoff', 6) },
      });
      expect(newVersion.status).toBe(409);
      expect(newVersion.json.type).toBe('urn:waymark:problem:program-archived');
      const unchanged = await call(server, 'POST', '/api/v1/programs/retired/versions', {
        as: admin,
        body: { definition: v2 },
      });
      expect(unchanged.status).toBe(200);
      expect(unchanged.json).toMatchObject({ outcome: 'unchanged', program: { archivedAt } });
      const publish = await call(server, 'POST', '/api/v1/programs/retired/versions/2/publish', {
        as: admin,
      });
      expect(publish.status).toBe(409);
      expect(publish.json.type).toBe('urn:waymark:problem:program-archived');
      const recreate = await call(server, 'POST', '/api/v1/programs', {
        as: admin,
        body: { definition: v1 },
      });
      expect(recreate.status).toBe(409);
      expect(recreate.json.detail).toContain('/unarchive');

      // The enrollment made before goes on.
      const done = await call(
        server,
        'POST',
        `/api/v1/enrollments/${enrolled.json.id}/milestones/kickoff/complete`,
        { as: admin, body: { evidence: { note: 'held after archiving' } } },
      );
      expect(done.status, done.text).toBe(200);
      const progress = await call(server, 'GET', `/api/v1/accounts/${first.id}/progress`, {
        as: viewer,
      });
      expect(progress.json.enrollments).toHaveLength(1);
      expect(progress.json.enrollments[0].program).toMatchObject({ key: 'retired', version: 1 });
      const version = await call(server, 'GET', '/api/v1/programs/retired/versions/1', {
        as: viewer,
      });
      expect(version.status).toBe(200);

      server.clock.advance(60_000);
      const unarchived = await call(server, 'POST', '/api/v1/programs/retired/unarchive', {
        as: admin,
      });
      expect(unarchived.status).toBe(200);
      expect(unarchived.json).toMatchObject({ archivedAt: null, updatedAt: server.clock() });
      expect(await listed()).toContain('retired');
      expect((await enroll(second.id, 'retired')).status).toBe(201);
      const unarchivedAgain = await call(server, 'POST', '/api/v1/programs/retired/unarchive', {
        as: admin,
      });
      expect(unarchivedAgain.json.archivedAt).toBeNull();

      const trail = await call(
        server,
        'GET',
        `/api/v1/audit-events?entityType=program&entityId=${archived.json.id}`,
        { as: admin },
      );
      const events = trail.json.events.filter((e: { action: string }) =>
        ['program.archived', 'program.unarchived'].includes(e.action),
      );
      expect(events.map((e: { action: string }) => e.action).sort()).toEqual([
        'program.archived',
        'program.unarchived',
      ]);
      const archiving = events.find((e: { action: string }) => e.action === 'program.archived');
      expect(archiving).toMatchObject({
        occurredAt: archivedAt,
        actor: { type: 'user', id: admin.userId },
        before: { key: 'retired', archivedAt: null },
        after: { key: 'retired', archivedAt },
      });
    });

    it('answers 404 for a program that is not there', async () => {
      for (const action of ['archive', 'unarchive']) {
        const res = await call(server, 'POST', `/api/v1/programs/nowhere/${action}`, { as: admin });
        expect(res.status).toBe(404);
      }
    });
  });

  describe('moving enrollments between versions', () => {
    async function enroll(
      programVersionId: string,
      program: ProgramDefinition,
      complete: string[],
    ) {
      const { db } = server.database;
      const account = await makeAccount(db, workspace.id);
      const id = newId();
      await insertEnrollment(
        db,
        enrollmentOf(
          { workspaceId: workspace.id, accountId: account.id, programVersionId: programVersionId },
          { id: id },
        ),
      );
      let progress = initialProgress(program, T0, account);
      for (const key of complete) {
        // Completed the way the milestone is verified: by the CSM, else from product data.
        const byCsm = program.milestones.find((m) => m.key === key)?.verification.includes('csm');
        const done = completeMilestone(program, progress, {
          milestoneKey: key,
          at: T0,
          source: byCsm ? 'csm' : 'automatic',
          actor: byCsm ? { type: 'user', id: admin.userId } : { type: 'system', id: null },
        });
        if (!done.ok) throw new Error(done.error.message);
        progress = done.value.progress;
      }
      await saveProgress(db, workspace.id, id, progress, T0);
      return id;
    }

    it('shows the diff and the enrollments affected, then moves them keeping completions by key', async () => {
      const v1 = withKey('migrating');
      await call(server, 'POST', '/api/v1/programs', { as: admin, body: { definition: v1 } });
      await call(server, 'POST', '/api/v1/programs/migrating/versions/1/publish', { as: admin });
      const detail = await call(server, 'GET', '/api/v1/programs/migrating', { as: admin });
      const v1Id = (
        await server.database.db
          .selectFrom('program_versions')
          .select('id')
          .where('workspace_id', '=', workspace.id)
          .where('version', '=', 1)
          .where('program_id', '=', detail.json.id)
          .executeTakeFirstOrThrow()
      ).id;
      const first = await enroll(v1Id, v1, ['kickoff', 'integration']);
      const second = await enroll(v1Id, v1, ['kickoff']);

      // v2: integration re-dated, training removed, review added after integration, go-live
      // now depends on review.
      const v2: ProgramDefinition = {
        ...v1,
        milestones: [
          v1.milestones[0] as ProgramDefinition['milestones'][number],
          { ...(v1.milestones[1] as ProgramDefinition['milestones'][number]), targetDay: 10 },
          {
            key: 'review',
            title: 'Setup reviewed',
            phase: 'foundation',
            targetDay: 12,
            dependsOn: ['integration'],
            owner: 'csm',
            verification: ['csm'],
          },
          {
            key: 'go-live',
            title: 'Live',
            phase: 'foundation',
            targetDay: 20,
            dependsOn: ['review'],
            owner: 'customer',
            verification: ['client'],
          },
        ],
      };
      const saved = await call(server, 'POST', '/api/v1/programs/migrating/versions', {
        as: admin,
        body: { definition: v2 },
      });
      expect(saved.status).toBe(201);

      const dry = await call(server, 'POST', '/api/v1/programs/migrating/migrations', {
        as: admin,
        body: { from: 1, to: 2 },
      });
      expect(dry.status).toBe(200);
      expect(dry.json).toMatchObject({
        from: 1,
        to: 2,
        applied: false,
        affectedEnrollments: 2,
        diff: {
          added: ['review', 'go-live'],
          removed: ['training'],
          redated: [{ key: 'integration', fromDay: 14, toDay: 10 }],
          dependencyChanges: [],
        },
      });
      expect(
        dry.json.enrollments.find((e: { enrollmentId: string }) => e.enrollmentId === first),
      ).toMatchObject({ milestonesRemoved: ['training'], completionsKept: 2 });

      // A draft cannot receive enrollments.
      const toDraft = await call(server, 'POST', '/api/v1/programs/migrating/migrations', {
        as: admin,
        body: { from: 1, to: 2, apply: true },
      });
      expect(toDraft.status).toBe(400);
      expect(toDraft.json.errors[0].field).toBe('body.to');
      const noSuch = await call(server, 'POST', '/api/v1/programs/migrating/migrations', {
        as: admin,
        body: { from: 7, to: 2 },
      });
      expect(noSuch.json.errors[0].field).toBe('body.from');

      await call(server, 'POST', '/api/v1/programs/migrating/versions/2/publish', { as: admin });
      server.clock.advance(3600_000);
      const applied = await call(server, 'POST', '/api/v1/programs/migrating/migrations', {
        as: admin,
        body: { from: 1, to: 2, apply: true },
      });
      expect(applied.status).toBe(200);
      expect(applied.json).toMatchObject({ applied: true, affectedEnrollments: 2 });

      const { db } = server.database;
      const progress = new Map(
        (await listProgress(db, workspace.id, first)).map((row) => [row.milestoneKey, row]),
      );
      expect([...progress.keys()].sort()).toEqual(['go-live', 'integration', 'kickoff', 'review']);
      expect(progress.get('integration')).toMatchObject({ status: 'completed', completedAt: T0 });
      expect(progress.get('review')).toMatchObject({ status: 'open', openedAt: server.clock() });
      expect(progress.get('go-live')?.status).toBe('locked');
      const secondProgress = new Map(
        (await listProgress(db, workspace.id, second)).map((row) => [row.milestoneKey, row]),
      );
      expect(secondProgress.get('integration')?.status).toBe('open');
      expect(secondProgress.get('review')?.status).toBe('locked');

      const pinned = await db
        .selectFrom('enrollments')
        .select('program_version_id')
        .where('id', 'in', [first, second])
        .execute();
      expect(new Set(pinned.map((p) => p.program_version_id)).has(v1Id)).toBe(false);

      const events = await call(server, 'GET', `/api/v1/audit-events?limit=500`, { as: admin });
      const migrated = events.json.events.filter(
        (e: { action: string; entity: { id: string } }) =>
          e.action === 'enrollment.migrated' && [first, second].includes(e.entity.id),
      );
      expect(migrated).toHaveLength(2);
      const ofFirst = migrated.find((e: { entity: { id: string } }) => e.entity.id === first);
      expect(ofFirst.before).toMatchObject({
        version: 1,
        removedMilestones: [{ milestoneKey: 'training' }],
      });
      expect(ofFirst.after).toMatchObject({ version: 2, addedMilestones: ['review', 'go-live'] });

      // Nothing is left on version 1.
      const after = await call(server, 'POST', '/api/v1/programs/migrating/migrations', {
        as: admin,
        body: { from: 1, to: 2 },
      });
      expect(after.json.affectedEnrollments).toBe(0);
    });
  });
});
