import { readdirSync, readFileSync } from 'node:fs';
import {
  formatIssue,
  type Milestone,
  type ProgramDefinition,
  parseProgramYaml,
} from '@waymark/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../testing/engines.js';
import { makeAccount, makeWorkspace } from '../testing/factories.js';
import {
  call,
  type Member,
  signedInMember,
  startTestServer,
  type TestServer,
} from '../testing/test-server.js';
import { type Workspace, workspaceSettingsSchema } from '../workspaces/workspaces.repo.js';

// The built-in templates, at the top of the repository (as `waymark templates apply` reads them).
const folder = new URL('../../../../templates/', import.meta.url);
const names = readdirSync(folder)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

function load(name: string): ProgramDefinition {
  const result = parseProgramYaml(readFileSync(new URL(name, folder), 'utf8'), name);
  if (!result.ok) throw new Error(result.error.map((issue) => formatIssue(issue)).join('\n'));
  return result.value;
}
const templates = new Map(names.map((name) => [name.replace(/\.yaml$/, ''), load(name)]));
const keys = [...templates.keys()];
const template = (key: string): ProgramDefinition => {
  const program = templates.get(key);
  if (!program) throw new Error(`no template ${key}`);
  return program;
};

/**
 * role-based-sets with its admin milestones restricted to Enterprise accounts. No built-in
 * template restricts milestones to segments (audience does not change what an account is
 * enrolled in), so this variant exercises the modular inclusion: a Mid-Market account skips the
 * admin milestones, and the power-user and operator milestones that follow integration-ready
 * wait for what integration-ready waited for (the kickoff).
 */
const bySegment: ProgramDefinition = {
  ...template('role-based-sets'),
  key: 'role-based-sets-by-segment',
  name: 'Role-based onboarding, admin milestones for Enterprise only',
  milestones: template('role-based-sets').milestones.map((m) =>
    m.audience?.includes('admin') ? { ...m, segments: ['Enterprise'] } : m,
  ),
};

// Dates: the workspace's time zone is UTC, so an instant's local date is its UTC date, days have
// no DST shift, and every due date is the start date plus targetDay calendar days. All four
// templates count calendar days (asserted below); business days would need weekends skipped.
const DAY = 86_400_000;
const AT_RISK_AFTER_DAYS = 7;
const dateOf = (instant: string) => new Date(instant).toISOString().slice(0, 10);
const plusDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00.000Z`) + days * DAY).toISOString().slice(0, 10);
const daysFrom = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00.000Z`) - Date.parse(`${from}T00:00:00.000Z`)) / DAY);

type Done = ReadonlyMap<string, 'completed' | 'waived'>;

/** The milestones an account is enrolled in: those without segments, and those of its segment. */
function tracked(program: ProgramDefinition, segment: string | null): Milestone[] {
  return program.milestones.filter(
    (m) => m.segments === undefined || (segment !== null && m.segments.includes(segment)),
  );
}

/**
 * What gates a tracked milestone: its dependencies that apply to the account. A dependency that
 * does not apply has nothing to do, so it stands aside for its own dependencies, which keeps the
 * order of the work that came before it.
 */
function gates(program: ProgramDefinition, trackedKeys: ReadonlySet<string>, m: Milestone) {
  const byKey = new Map(program.milestones.map((milestone) => [milestone.key, milestone]));
  const resolve = (deps: readonly string[]): string[] =>
    deps.flatMap((dep) =>
      trackedKeys.has(dep) ? [dep] : resolve(byKey.get(dep)?.dependsOn ?? []),
    );
  return [...new Set(resolve(m.dependsOn))];
}

/** The enrollment as the API should show it, computed from the template alone. */
function expected(
  program: ProgramDefinition,
  account: { segment: string | null },
  startedAt: string,
  now: string,
  done: Done = new Map(),
) {
  const milestones = tracked(program, account.segment);
  const trackedKeys = new Set(milestones.map((m) => m.key));
  const today = dateOf(now);
  const rows = milestones.map((m) => {
    const dueDate = plusDays(dateOf(startedAt), m.targetDay);
    // Open iff every dependency applicable to the account is done (completed or waived).
    const status =
      done.get(m.key) ??
      (gates(program, trackedKeys, m).every((dep) => done.has(dep)) ? 'open' : 'locked');
    const overdueDays = done.has(m.key) ? 0 : Math.max(0, daysFrom(dueDate, today));
    return {
      key: m.key,
      dueDate,
      dueAt: `${plusDays(dueDate, 1)}T00:00:00.000Z`,
      status,
      overdueDays,
      atRisk: overdueDays >= AT_RISK_AFTER_DAYS,
    };
  });
  // Expected by now: due today or earlier. Late: a day past due; at risk: 7 days past due.
  const dueByNow = rows.filter((row) => row.dueDate <= today);
  const doneOfExpected = dueByNow.filter((row) => done.has(row.key)).length;
  const mostOverdueDays = Math.max(0, ...rows.map((row) => row.overdueDays));
  const doneTotal = rows.filter((row) => done.has(row.key)).length;
  const status = rows.some((row) => row.atRisk)
    ? 'at_risk'
    : mostOverdueDays > 0
      ? 'behind'
      : doneTotal > dueByNow.length
        ? 'ahead'
        : 'on_track';
  return {
    milestones: rows,
    scheduleStatus: {
      status,
      expectedByNow: dueByNow.length,
      doneOfExpected,
      doneTotal,
      ratio: dueByNow.length === 0 ? null : doneOfExpected / dueByNow.length,
      mostOverdueDays,
    },
  };
}

interface View {
  timeZone: string;
  milestones: Record<string, unknown>[];
  scheduleStatus: Record<string, unknown>;
}
/** The fields of an enrollment view that `expected` computes. */
const shown = (view: View) => ({
  milestones: view.milestones.map(({ key, dueDate, dueAt, status, overdueDays, atRisk }) => ({
    key,
    dueDate,
    dueAt,
    status,
    overdueDays,
    atRisk,
  })),
  scheduleStatus: view.scheduleStatus,
});

const statusOf = (view: View, key: string) => view.milestones.find((m) => m.key === key)?.status;

describe.each(testEngines())('the built-in templates, enrolled over REST [%s]', (engine) => {
  let server: TestServer;
  let workspace: Workspace;
  let admin: Member;
  let manager: Member;
  let csm: Member;
  let viewer: Member;
  let now: string;

  beforeAll(async () => {
    server = await startTestServer(engine);
    now = server.clock(); // 2026-03-02T15:00:00.000Z; the clock does not move in this file
    workspace = await makeWorkspace(server.database.db, {
      timeZone: 'UTC',
      settings: workspaceSettingsSchema.parse({ atRiskAfterDays: AT_RISK_AFTER_DAYS }),
    });
    admin = await signedInMember(server, workspace, 'admin');
    manager = await signedInMember(server, workspace, 'manager');
    csm = await signedInMember(server, workspace, 'csm');
    viewer = await signedInMember(server, workspace, 'viewer');

    // Each template goes in as its YAML file, as `waymark templates apply --publish` would.
    for (const name of names) {
      const yaml = readFileSync(new URL(name, folder), 'utf8');
      const created = await call(server, 'POST', '/api/v1/programs', { as: admin, body: { yaml } });
      if (created.status !== 201) throw new Error(`${name}: ${created.text}`);
      const key = created.json.program.key as string;
      const published = await call(server, 'POST', `/api/v1/programs/${key}/versions/1/publish`, {
        as: admin,
      });
      if (published.status !== 200) throw new Error(`${name}: ${published.text}`);
    }
    const variant = await call(server, 'POST', '/api/v1/programs', {
      as: admin,
      body: { definition: bySegment },
    });
    if (variant.status !== 201) throw new Error(variant.text);
    const published = await call(
      server,
      'POST',
      `/api/v1/programs/${bySegment.key}/versions/1/publish`,
      { as: admin },
    );
    if (published.status !== 200) throw new Error(published.text);
  });
  afterAll(async () => server.close());

  async function enroll(programKey: string, startedAt: string, segment = 'Mid-Market') {
    const account = await makeAccount(server.database.db, workspace.id, { segment });
    const res = await call(server, 'POST', `/api/v1/accounts/${account.id}/enrollments`, {
      as: csm,
      body: { programKey, startedAt },
    });
    expect(res.status, res.text).toBe(201);
    const progress = await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, {
      as: viewer,
    });
    expect(progress.status, progress.text).toBe(200);
    expect(progress.json.enrollments).toHaveLength(1);
    return { account, id: res.json.id as string, enrolled: res.json as View, progress };
  }
  const act = (as: Member, enrollmentId: string, key: string, verb: string, body: object) =>
    call(server, 'POST', `/api/v1/enrollments/${enrollmentId}/milestones/${key}/${verb}`, {
      as,
      body,
    });

  it('loads the four built-in templates, each counting calendar days, as published', async () => {
    expect(keys).toHaveLength(4);
    for (const key of keys) {
      expect(template(key).schedule.dayCounting, key).toBe('calendar');
      const stored = await call(server, 'GET', `/api/v1/programs/${key}/versions/1`, {
        as: viewer,
      });
      expect(stored.json).toMatchObject({ status: 'published', definition: template(key) });
    }
  });

  it.each(keys)('%s: due dates, states and schedule status of a new enrollment', async (key) => {
    const program = template(key);
    const { enrolled, progress } = await enroll(key, now);
    expect(enrolled.timeZone).toBe('UTC');
    const want = expected(program, { segment: 'Mid-Market' }, now, now);
    expect(shown(enrolled)).toEqual(want);
    expect(shown(progress.json.enrollments[0])).toEqual(want);
    expect(progress.json.scheduleStatus).toEqual(want.scheduleStatus);
    // Something is open to start with, and something waits for it.
    const states = want.milestones.map((m) => m.status);
    expect(states).toContain('open');
    expect(states).toContain('locked');
  });

  it.each(keys)('%s: schedule status of an enrollment started 10 days ago', async (key) => {
    const startedAt = new Date(Date.parse(now) - 10 * DAY).toISOString();
    const { enrolled, progress } = await enroll(key, startedAt);
    const want = expected(template(key), { segment: 'Mid-Market' }, startedAt, now);
    expect(shown(enrolled)).toEqual(want);
    expect(shown(progress.json.enrollments[0])).toEqual(want);
    // Every template has a milestone due in its first 10 days, so nothing done means late.
    expect(want.scheduleStatus.mostOverdueDays).toBeGreaterThan(0);
    expect(['behind', 'at_risk']).toContain(want.scheduleStatus.status);
  });

  it.each(keys)(
    '%s: completing a milestone as it is verified opens its dependants',
    async (key) => {
      const program = template(key);
      const { account, id, enrolled } = await enroll(key, now);
      const before = expected(program, { segment: 'Mid-Market' }, now, now);
      const dependants = (m: Milestone) =>
        program.milestones.filter((d) => d.dependsOn.includes(m.key));
      const open = program.milestones.filter((m) => statusOf(enrolled, m.key) === 'open');
      // The API completes as the CSM, so the CSM completes an open milestone verified by csm.
      const byCsm = open.find((m) => m.verification.includes('csm') && dependants(m).length > 0);
      // A template verified only automatically has none: a manager waives one instead.
      const target = byCsm ?? open.find((m) => dependants(m).length > 0);
      if (!target) throw new Error(`${key}: no open milestone with dependants`);

      let done: Done;
      let res: Awaited<ReturnType<typeof act>>;
      if (byCsm) {
        res = await act(csm, id, target.key, 'complete', {
          evidence: { note: 'done on the call' },
        });
        expect(res.status, res.text).toBe(200);
        done = new Map([[target.key, 'completed']]);
      } else {
        const refused = await act(csm, id, target.key, 'complete', { evidence: { note: 'x' } });
        expect(refused.status, refused.text).toBe(409);
        expect(refused.json).toMatchObject({ code: 'verification_not_allowed', source: 'csm' });
        expect(new Set(refused.json.allowed)).toEqual(new Set(target.verification));
        res = await act(manager, id, target.key, 'waive', { reason: 'Set up by our team' });
        expect(res.status, res.text).toBe(200);
        done = new Map([[target.key, 'waived']]);
      }

      const after = expected(program, { segment: 'Mid-Market' }, now, now, done);
      expect(shown(res.json.enrollment)).toEqual(after);
      const opened = after.milestones
        .filter((m, i) => m.status === 'open' && before.milestones[i]?.status === 'locked')
        .map((m) => m.key);
      expect(opened.length).toBeGreaterThan(0);
      expect(opened.every((k) => dependants(target).some((d) => d.key === k))).toBe(true);
      // One change for the milestone acted on, then one per dependant it opened.
      const changes: { type: string; milestoneKey: string }[] = res.json.changes;
      expect(changes[0]).toMatchObject({
        milestoneKey: target.key,
        type: byCsm ? 'milestone.completed' : 'milestone.waived',
      });
      expect(changes.slice(1).map((c) => [c.type, c.milestoneKey])).toEqual(
        expect.arrayContaining(opened.map((k) => ['milestone.opened', k])),
      );
      expect(changes).toHaveLength(1 + opened.length);
      const row = res.json.enrollment.milestones.find((m: { key: string }) => m.key === target.key);
      if (byCsm) {
        const dueAt = after.milestones.find((m) => m.key === target.key)?.dueAt ?? '';
        expect(row).toMatchObject({
          source: 'csm',
          completedAt: now,
          verifiedBy: { type: 'user', id: csm.userId },
          completedOnTime: Date.parse(now) < Date.parse(dueAt),
        });
      } else {
        expect(row).toMatchObject({
          source: null,
          waiver: {
            at: now,
            by: { type: 'user', id: manager.userId },
            reason: 'Set up by our team',
          },
        });
      }
      const progress = await call(server, 'GET', `/api/v1/accounts/${account.id}/progress`, {
        as: viewer,
      });
      expect(shown(progress.json.enrollments[0])).toEqual(after);

      // Now open, but not verifiable by the CSM: the API refuses to complete it.
      const notByCsm = program.milestones.find(
        (m) => statusOf(res.json.enrollment, m.key) === 'open' && !m.verification.includes('csm'),
      );
      if (!notByCsm) throw new Error(`${key}: no open milestone the CSM cannot complete`);
      const refused = await act(csm, id, notByCsm.key, 'complete', { evidence: { note: 'x' } });
      expect(refused.status, refused.text).toBe(409);
      expect(refused.json).toMatchObject({
        type: 'urn:waymark:problem:verification-not-allowed',
        milestoneKey: notByCsm.key,
      });
      expect(refused.json.detail).toContain(`"${notByCsm.key}"`);
    },
  );

  it('leaves out the milestones of other segments; what followed them waits for what they waited for', async () => {
    const enterprise = await enroll(bySegment.key, now, 'Enterprise');
    expect(shown(enterprise.enrolled)).toEqual(
      expected(bySegment, { segment: 'Enterprise' }, now, now),
    );
    expect(enterprise.enrolled.milestones).toHaveLength(bySegment.milestones.length);

    const midMarket = await enroll(bySegment.key, now, 'Mid-Market');
    const want = expected(bySegment, { segment: 'Mid-Market' }, now, now);
    expect(shown(midMarket.enrolled)).toEqual(want);
    expect(shown(midMarket.progress.json.enrollments[0])).toEqual(want);
    const skipped = bySegment.milestones.filter((m) => m.segments !== undefined);
    expect(skipped.length).toBeGreaterThan(0);
    expect(midMarket.enrolled.milestones.map((m) => m.key)).toEqual(
      bySegment.milestones.filter((m) => !skipped.includes(m)).map((m) => m.key),
    );
    // Milestones whose every direct dependency was skipped still wait (for the kickoff).
    const inheriting = bySegment.milestones.filter(
      (m) =>
        !skipped.includes(m) &&
        m.dependsOn.length > 0 &&
        m.dependsOn.every((dep) => skipped.some((s) => s.key === dep)),
    );
    expect(inheriting.length).toBeGreaterThan(0);
    for (const m of inheriting) expect(statusOf(midMarket.enrolled, m.key), m.key).toBe('locked');

    const kickoff = bySegment.milestones.find((m) => m.key === 'kickoff');
    expect(kickoff?.verification).toContain('csm');
    const done = await act(csm, midMarket.id, 'kickoff', 'complete', {
      evidence: { note: 'every role attended' },
    });
    expect(done.status, done.text).toBe(200);
    const after = expected(
      bySegment,
      { segment: 'Mid-Market' },
      now,
      now,
      new Map([['kickoff', 'completed']]),
    );
    expect(shown(done.json.enrollment)).toEqual(after);
    for (const m of inheriting) expect(statusOf(done.json.enrollment, m.key), m.key).toBe('open');
  });
});
