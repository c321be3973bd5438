import {
  chooseWorkspace,
  countCompletedMilestones,
  countPendingRebuilds,
  createTracker,
  findProgramByKey,
  loadConfig,
  migrateToLatest,
  openDatabase,
  requestBackfill,
  systemClock,
  WorkspaceChoiceError,
} from '@waymark/server';
import { Command } from 'commander';
import { say } from './say.js';

type TrackerLog = Parameters<typeof createTracker>[0]['log'];

/** The tracker's log for a command: failures said on standard error, nothing else. */
function failuresLog(failures: string[]): TrackerLog {
  const quiet = () => {};
  const failed = (first: unknown, message?: unknown) => {
    const err = (first as { err?: unknown } | null)?.err;
    const text = [typeof first === 'string' ? first : message, err instanceof Error && err.message]
      .filter((part) => typeof part === 'string' && part !== '')
      .join(': ');
    failures.push(text);
    say(false, text);
  };
  const log: TrackerLog = {
    level: 'error',
    fatal: failed,
    error: failed,
    warn: quiet,
    info: quiet,
    debug: quiet,
    trace: quiet,
    silent: quiet,
    child: () => log,
  };
  return log;
}

/** Enrollments rebuilt so far, on standard error: a redrawn bar on a terminal, a line per tenth otherwise. */
function rebuildProgress(total: number, stream: NodeJS.WriteStream = process.stderr) {
  let lastTenth = -1;
  let drawn = false;
  return {
    update(reported: number) {
      // Rebuilds asked for by others count as pending too: never below 0 nor above the total.
      const done = Math.max(0, Math.min(reported, total));
      const ratio = total === 0 ? 1 : done / total;
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round(ratio * width);
        stream.write(
          `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} enrollments`,
        );
        drawn = true;
        return;
      }
      const tenth = Math.floor(ratio * 10);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`rebuilding… ${done}/${total} enrollments\n`);
      }
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Requests a rebuild of every active enrollment (of one program, when given) and runs the
 * tracking until it has done them: metrics and automatic completions are computed again from
 * the stored events, for history sent late or criteria changed since.
 */
export async function backfill(options: { workspace?: string; program?: string }): Promise<void> {
  const database = openDatabase(loadConfig());
  try {
    await migrateToLatest(database);
    const { db } = database;
    const workspace = await chooseWorkspace(db, options.workspace);
    let programId: string | null = null;
    if (options.program !== undefined) {
      const program = await findProgramByKey(db, workspace.id, options.program);
      if (!program) {
        say(false, `no program ${options.program} in ${workspace.slug}`);
        process.exitCode = 1;
        return;
      }
      programId = program.id;
    }
    const scope = `${workspace.slug}${options.program === undefined ? '' : `, program ${options.program}`}`;

    const completedBefore = await countCompletedMilestones(db, workspace.id, programId);
    const requested = await db
      .transaction()
      .execute((trx) => requestBackfill(trx, workspace.id, programId, systemClock()));
    if (requested === 0) {
      say(true, `no active enrollments to rebuild in ${scope}`);
      return;
    }

    const failures: string[] = [];
    const tracker = createTracker({ database, clock: systemClock, log: failuresLog(failures) });
    const progress = rebuildProgress(requested);
    const pending = () => countPendingRebuilds(db, workspace.id);
    let showing: Promise<void> = Promise.resolve();
    progress.update(0);
    const ticker = setInterval(() => {
      showing = showing.then(async () => progress.update(requested - (await pending())));
      showing = showing.catch(() => {});
    }, 250);
    let left: number;
    try {
      tracker.start();
      // Another server may hold some of the rebuilds: wait until every one is done.
      for (;;) {
        await tracker.settled();
        left = await pending();
        if (left === 0 || failures.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      clearInterval(ticker);
      await showing;
      await tracker.stop();
    }
    if (left === 0) progress.update(requested);
    progress.end();
    if (left > 0) {
      say(false, `tracking failed with ${plural(left, 'rebuild')} left in ${scope}; run it again`);
      process.exitCode = 1;
      return;
    }
    const completed = Math.max(
      0,
      (await countCompletedMilestones(db, workspace.id, programId)) - completedBefore,
    );
    say(
      true,
      `rebuilt ${plural(requested, 'enrollment')} in ${scope}: ${plural(completed, 'milestone')} completed`,
    );
  } catch (error) {
    if (error instanceof WorkspaceChoiceError) {
      say(false, error.message);
      process.exitCode = 1;
      return;
    }
    throw error;
  } finally {
    await database.close();
  }
}

export function backfillCommand(): Command {
  return new Command('backfill')
    .description(
      'recompute the metrics and automatic completions of active enrollments from the stored events (history sent late, criteria changed)',
    )
    .option('--workspace <slug>', 'the workspace (needed when there is more than one)')
    .option('--program <key>', 'only the enrollments of this program')
    .action((options: { workspace?: string; program?: string }) => backfill(options));
}
