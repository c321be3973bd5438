import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import {
  createTestDatabase,
  storedEvents,
  type TestDatabase,
  testEngines,
  trackedProgram,
} from '@waymark/server/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, bin, cliEnv } from './testing/built-cli.js';

/**
 * The acceptance test for durable ingestion: the built server is killed (SIGKILL) while
 * batches are being posted and tracked; after a restart on the same database, every event
 * that got a 2xx is stored exactly once, no milestone was completed twice, and sending the
 * acknowledged batches again (a client's retry) changes nothing.
 */

beforeAll(assertBuilt);

const ADMIN = { email: 'ops@example.com', password: 'durable and long enough' };
const ACCOUNTS = ['acme', 'globex', 'initech', 'umbrella'];
const SENDERS = 4;
const BATCHES = 48;
const EVENTS_PER_BATCH = 100;
/**
 * The one batch with the last account's ok syncs (see makeBatches): the process is killed as
 * soon as it is acknowledged, so that account's milestones are being completed by the tracking
 * right then, or are left for the restart. A dozen batches are sent by then, most still to come.
 */
const TRIGGER = 12;
const DAY = 86_400_000;

const AUTOMATIC = ['sync', 'activation'];

interface Batch {
  /** Its place in the load: the senders take the batches in this order. */
  index: number;
  ids: string[];
  body: string;
}

/**
 * Every batch the load may send, made up front. Each holds every account's events: "Contact
 * Synced" and other calls by several users, at times spread over three days and out of order
 * across batches, so the tracking also meets late events. The k-th account's syncs are ok from
 * batch 3k on, so its milestones complete at different points of the load; the last account's
 * only in batch TRIGGER.
 */
function makeBatches(now: number): { batches: Batch[]; okSyncOf: Map<string, string> } {
  const batches: Batch[] = [];
  /** message id → account, for the "Contact Synced" events with status ok */
  const okSyncOf = new Map<string, string>();
  const last = ACCOUNTS.length - 1;
  for (let b = 0; b < BATCHES; b++) {
    const batch = [];
    for (let i = 0; i < EVENTS_PER_BATCH; i++) {
      const n = b * EVENTS_PER_BATCH + i;
      const k = i % ACCOUNTS.length;
      const account = ACCOUNTS[k] as string;
      const messageId = `load-${b}-${i}`;
      const synced = i % 3 !== 2;
      const ok = synced && i % 10 !== 0 && (k === last ? b === TRIGGER : b >= 3 * k);
      if (ok) okSyncOf.set(messageId, account);
      batch.push({
        type: 'track',
        messageId,
        userId: `${account}-user-${(n * 7) % 5}`,
        event: synced ? 'Contact Synced' : 'Report Viewed',
        properties: synced ? { status: ok ? 'ok' : 'error', n } : { n },
        context: { groupId: account },
        // Within the last 4 days, shuffled: later batches carry earlier times too.
        timestamp: new Date(now - DAY - ((n * 7919 * 60_000) % (3 * DAY))).toISOString(),
      });
    }
    batches.push({
      index: b,
      ids: batch.map((e) => e.messageId),
      body: JSON.stringify({ batch }),
    });
  }
  return { batches, okSyncOf };
}

interface Served {
  child: ChildProcess;
  url: string;
  output: { stdout: string; stderr: string };
}

describe.each(testEngines())('durability on %s', (engine) => {
  let database: TestDatabase | undefined;
  const children: ChildProcess[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
    }
    await database?.drop();
    database = undefined;
  });

  /** Starts `waymark serve` on a free loopback port; resolves once it listens. */
  async function serve(env: Record<string, string | undefined>): Promise<Served> {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
      env: cliEnv({ ...env, HOST: '127.0.0.1' }, 'warn'),
    });
    children.push(child);
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => {
      output.stdout += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        output.stderr += d;
        const match = /✓ listening on (http:\/\/\S+)/.exec(output.stderr);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`serve exited with ${code ?? signal}: ${output.stderr}`)),
      );
    });
    return { child, url, output };
  }

  it('keeps every acknowledged event and completes no milestone twice across a SIGKILL mid-load', async () => {
    database = await createTestDatabase(engine, { migrate: false });
    const { db } = database;
    const env = {
      ...database.env,
      WAYMARK_ADMIN_EMAIL: ADMIN.email,
      WAYMARK_ADMIN_PASSWORD: ADMIN.password,
    };
    const first = await serve(env);
    let base = first.url;

    // ── set-up over HTTP, as an admin would ──
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    // biome-ignore lint/suspicious/noExplicitAny: the test reads arbitrary JSON answers
    async function api(method: string, path: string, body?: unknown): Promise<any> {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          cookie,
          'x-csrf-token': csrfToken,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : undefined;
    }

    const writeKey = (await api('POST', '/api/v1/api-keys', { kind: 'write', name: 'load' }))
      .token as string;
    await api('POST', '/api/v1/programs', { definition: trackedProgram });
    await api('POST', `/api/v1/programs/${trackedProgram.key}/versions/1/publish`);
    const now = Date.now();
    const accountIds = new Map<string, string>();
    const enrollmentOf = new Map<string, string>();
    for (const externalId of ACCOUNTS) {
      const account = await api('POST', '/api/v1/accounts', { externalId, name: externalId });
      accountIds.set(externalId, account.id);
      const enrollment = await api('POST', `/api/v1/accounts/${account.id}/enrollments`, {
        programKey: trackedProgram.key,
        startedAt: new Date(now - 10 * DAY).toISOString(),
      });
      enrollmentOf.set(externalId, enrollment.id);
    }

    // ── load, and SIGKILL while requests are in flight ──
    const { batches, okSyncOf } = makeBatches(now);
    const sentIds = new Set(batches.flatMap((b) => b.ids));
    const authorization = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
    const post = (url: string, batch: Batch) =>
      fetch(`${url}/v1/batch`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: batch.body,
      });

    const acked: Batch[] = [];
    const refused: string[] = [];
    let connectionErrors = 0;
    let inFlight = 0;
    let killed = false;
    let inFlightAtKill = 0;
    let ackedAtKill = 0;
    const exited = once(first.child, 'exit');
    // Killed once the trigger batch is acknowledged, while others still wait for an answer.
    const maybeKill = () => {
      if (killed || inFlight === 0 || !acked.some((b) => b.index === TRIGGER)) return;
      killed = true;
      inFlightAtKill = inFlight;
      ackedAtKill = acked.length;
      first.child.kill('SIGKILL');
    };
    const queue = [...batches];
    async function sender(): Promise<void> {
      for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
        if (killed) return;
        inFlight++;
        const answer = post(base, batch);
        maybeKill();
        let res: Response;
        try {
          res = await answer;
        } catch {
          connectionErrors++; // not acknowledged: the sender would retry it later
          continue;
        } finally {
          inFlight--;
        }
        // The status line is the acknowledgement: it is only sent after the commit.
        if (res.status >= 200 && res.status < 300) {
          acked.push(batch);
          maybeKill();
        } else {
          refused.push(`${res.status} ${await res.text().catch(() => '')}`);
        }
        await res.arrayBuffer().catch(() => {});
      }
    }
    await Promise.all(Array.from({ length: SENDERS }, () => sender()));
    expect(killed, `the load ended before batch ${TRIGGER} was acknowledged: ${refused}`).toBe(
      true,
    );
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal).toBe('SIGKILL');
    expect(inFlightAtKill, 'requests in flight when the server was killed').toBeGreaterThan(0);
    expect(refused, 'answers other than 2xx before the kill').toEqual([]);
    expect(acked.length).toBeLessThan(batches.length);
    const ackedIds = acked.flatMap((b) => b.ids);

    // Where the tracking stood when the process died (for the report: the restart must catch up).
    const killedAt = await db
      .selectFrom('tracking_cursor')
      .select(['txid', 'seq'])
      .where('name', '=', 'events')
      .executeTakeFirstOrThrow();
    const storedAtKill = await storedEvents(db);
    const untracked = storedAtKill.filter((e) => {
      const [a, b] = [BigInt(String(e.txid)), BigInt(String(killedAt.txid))];
      return a > b || (a === b && Number(e.seq) > Number(killedAt.seq));
    }).length;
    const completedAtKill = (
      await db
        .selectFrom('milestone_progress')
        .select('milestone_key')
        .where('status', '=', 'completed')
        .execute()
    ).length;
    const rebuildsAtKill = (
      await db
        .selectFrom('enrollment_metrics')
        .select('enrollment_id')
        .where('rebuild_requested_at', 'is not', null)
        .execute()
    ).length;

    // ── restart on the same database and let the tracking catch up ──
    const second = await serve(env);
    base = second.url;

    async function milestones() {
      const byAccount: Record<string, unknown> = {};
      for (const [externalId, id] of accountIds) {
        const progress = await api('GET', `/api/v1/accounts/${id}/progress`);
        byAccount[externalId] = (
          progress.enrollments[0].milestones as Record<string, unknown>[]
        ).map(({ key, status, completedAt, source, evidence }) => ({
          key,
          status,
          completedAt,
          source,
          evidence,
        }));
      }
      return byAccount as Record<string, { key: string; status: string; source: string }[]>;
    }
    /** The tracking's cursor stands on the last stored event and no rebuild waits. */
    async function trackingIdle(): Promise<boolean> {
      const last = (await storedEvents(db)).at(-1);
      const cursor = await db
        .selectFrom('tracking_cursor')
        .select(['txid', 'seq'])
        .where('name', '=', 'events')
        .executeTakeFirstOrThrow();
      const waiting = await db
        .selectFrom('enrollment_metrics')
        .select('enrollment_id')
        .where('rebuild_requested_at', 'is not', null)
        .execute();
      return (
        last !== undefined &&
        String(last.txid) === String(cursor.txid) &&
        Number(last.seq) === Number(cursor.seq) &&
        waiting.length === 0
      );
    }
    async function storedCalls() {
      const rows = await storedEvents(db);
      const count = new Map<string, number>();
      for (const row of rows) {
        const id = `${row.workspace_id}/${row.message_id}`;
        count.set(id, (count.get(id) ?? 0) + 1);
      }
      return { rows, count };
    }
    // Nothing is sent until the retry below: what is stored now decides which milestones must
    // complete. An account with three ok syncs stored completes both (its users are active).
    const events = await storedCalls();
    const okSyncs = new Map<string, number>();
    for (const { message_id } of events.rows) {
      const account = okSyncOf.get(message_id);
      if (account !== undefined) okSyncs.set(account, (okSyncs.get(account) ?? 0) + 1);
    }
    const done = ACCOUNTS.filter((account) => (okSyncs.get(account) ?? 0) >= 3);
    const allDone = (state: Awaited<ReturnType<typeof milestones>>) =>
      done.every((account) =>
        AUTOMATIC.every(
          (key) => state[account]?.find((m) => m.key === key)?.status === 'completed',
        ),
      );
    let settled: Awaited<ReturnType<typeof milestones>> | undefined;
    for (let attempt = 0; attempt < 150 && settled === undefined; attempt++) {
      const idle = await trackingIdle();
      const state = await milestones();
      if (idle && allDone(state)) settled = state;
      else await delay(100);
    }
    expect(
      settled,
      `the tracking did not catch up; server log:\n${second.output.stdout}`,
    ).toBeDefined();

    // ── 1. every acknowledged event is stored, exactly once ──
    const workspaces = new Set(events.rows.map((r) => r.workspace_id));
    expect(workspaces.size).toBe(1);
    const [workspaceId] = workspaces;
    const missing = ackedIds.filter((id) => events.count.get(`${workspaceId}/${id}`) !== 1);
    expect(missing, 'acknowledged events not stored exactly once').toEqual([]);
    expect([...events.count.values()].filter((n) => n !== 1)).toEqual([]);
    expect(events.rows.filter((r) => !sentIds.has(r.message_id))).toEqual([]);
    expect(events.rows.length).toBeGreaterThanOrEqual(ackedIds.length);

    // ── 2. no milestone was completed twice ──
    async function milestoneRecords() {
      const audit = await db
        .selectFrom('audit_events')
        .select(['action', 'entity_id', 'actor_type'])
        .where('action', 'like', 'milestone.%')
        .orderBy('id')
        .execute();
      const progress = await db
        .selectFrom('milestone_progress')
        .select(['enrollment_id', 'milestone_key', 'status', 'completed_at', 'completion_source'])
        .orderBy('enrollment_id')
        .orderBy('milestone_key')
        .execute();
      return { audit, progress };
    }
    const records = await milestoneRecords();
    const completions = new Map<string, number>();
    for (const row of records.audit.filter((r) => r.action === 'milestone.completed'))
      completions.set(row.entity_id, (completions.get(row.entity_id) ?? 0) + 1);
    // Every account whose acknowledged events alone complete it is among those expected.
    const ackedOk = ackedIds.filter((id) => okSyncOf.has(id));
    for (const account of ACCOUNTS)
      if (ackedOk.filter((id) => okSyncOf.get(id) === account).length >= 3)
        expect(done).toContain(account);
    const expected = done.flatMap((account) =>
      AUTOMATIC.map((key) => `${enrollmentOf.get(account)}/${key}`),
    );
    expect(Object.fromEntries(completions)).toEqual(
      Object.fromEntries(expected.map((entity) => [entity, 1])),
    );
    expect(records.audit.filter((r) => r.action === 'milestone.reopened')).toEqual([]);
    for (const account of ACCOUNTS) {
      for (const key of AUTOMATIC) {
        const rows = records.progress.filter(
          (r) => r.enrollment_id === enrollmentOf.get(account) && r.milestone_key === key,
        );
        if (done.includes(account)) {
          expect(rows).toHaveLength(1);
          expect(rows[0]).toMatchObject({ status: 'completed', completion_source: 'automatic' });
          expect(settled?.[account]?.find((m) => m.key === key)).toMatchObject({
            status: 'completed',
            source: 'automatic',
          });
        } else {
          expect(rows.filter((r) => r.status === 'completed')).toEqual([]);
        }
      }
    }

    // ── 3. the sender retries every acknowledged batch: nothing new, nothing changes ──
    const retries = await Promise.all(
      Array.from({ length: SENDERS }, async (_, s) => {
        const answers = [];
        for (let i = s; i < acked.length; i += SENDERS) {
          const res = await post(base, acked[i] as Batch);
          answers.push({ status: res.status, body: await res.json() });
        }
        return answers;
      }),
    );
    for (const answer of retries.flat())
      expect(answer).toMatchObject({
        status: 200,
        body: { success: true, received: EVENTS_PER_BATCH, stored: 0 },
      });
    expect(await trackingIdle()).toBe(true);
    expect(await milestones()).toEqual(settled);

    // Stopped cleanly, the database says the same.
    const stopped = once(second.child, 'exit');
    second.child.kill('SIGTERM');
    const [code] = (await stopped) as [number | null];
    expect(code).toBe(0);
    expect(second.output.stdout).not.toContain('tracking failed');
    const after = await storedCalls();
    expect(after.rows.length).toBe(events.rows.length);
    expect(await milestoneRecords()).toEqual(records);

    console.log(
      `${engine}: ${ackedAtKill} batches acknowledged when killed with ${inFlightAtKill} in flight; ` +
        `${acked.length} acknowledged in all (${ackedIds.length} events), ` +
        `${connectionErrors} lost to the kill, ${events.rows.length} events stored; ` +
        `at the kill ${untracked} of ${storedAtKill.length} stored events were untracked and ` +
        `${completedAtKill} of ${expected.length} milestones completed, ${rebuildsAtKill} rebuilds waiting (${done.length} of ${ACCOUNTS.length} accounts done at the end)`,
    );
  });
});
