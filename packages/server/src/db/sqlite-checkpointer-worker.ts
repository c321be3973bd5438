// The checkpointer on a thread of its own (`sqlite-checkpointer.ts` starts it), on its own
// connection to the SQLite file, sharing the process's write lock.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteFile } from './sqlite.js';
import type { CheckpointerData, FromCheckpointer, ToCheckpointer } from './sqlite-checkpointer.js';
import { WriteLock } from './write-lock.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-checkpointer-worker runs as a worker thread');
const { file, writeLock, intervalMs } = workerData as CheckpointerData;
const db = openSqliteFile(file);
db.pragma('busy_timeout = 1000');
const lock = new WriteLock(writeLock);
const databaseFile = fs.openSync(file, 'r');

/** Passes without the lock while the one before copied at least so many pages. */
const SHORT_TAIL_PAGES = 256;
const MAX_PASSES_UNLOCKED = 3;

interface Pass {
  busy: number;
  /** Pages the log holds; pages of it now in the database file. */
  log: number;
  checkpointed: number;
}

const pass = () => (db.pragma('wal_checkpoint(PASSIVE)') as Pass[])[0] as Pass;

/** The log's length at the last checkpoint: one that finds it unchanged has nothing to do. */
let logBefore = -1;

/**
 * Copies the log into the database file and leaves it wholly copied, so that the next commit
 * starts it again from its top. SQLite does that only when a checkpoint reaches the log's end,
 * which under a steady stream of commits only a commit's own checkpoint does (past
 * `wal_autocheckpoint`): with every thread's writes waiting on it for a copy of seconds of the
 * log and two syncs. Here the copying and the syncing are done while the others write on, and
 * only the last few pages holding the write lock. Returns the pages copied, in all.
 */
async function checkpoint(): Promise<number> {
  let result = pass();
  for (let passes = 1; passes < MAX_PASSES_UNLOCKED && !result.busy; passes++) {
    const more = pass();
    const added = more.log - result.log;
    result = more;
    if (added < SHORT_TAIL_PAGES) break;
  }
  if (result.busy || result.log <= 0 || result.log === logBefore) return result.checkpointed;
  // What SQLite's sync under the lock would write, written before it (the log's last pages
  // are synced by the pass itself).
  fs.fdatasyncSync(databaseFile);
  await lock.acquire();
  try {
    result = pass();
  } finally {
    lock.release();
  }
  logBefore = result.log;
  return result.checkpointed;
}

let running: Promise<void> = Promise.resolve();
/** One checkpoint at a time; each answers whoever asked for it. */
function next(then: (message: FromCheckpointer) => void): void {
  running = running.then(() =>
    checkpoint().then(
      (checkpointed) => then({ checkpointed }),
      (error: unknown) => then({ error: String(error) }),
    ),
  );
}

const timer = setInterval(() => next(() => {}), intervalMs);
port.on('message', (message: ToCheckpointer) => {
  if (message === 'checkpoint') next((answer) => port.postMessage(answer));
  else {
    clearInterval(timer);
    void running.then(() => {
      fs.closeSync(databaseFile);
      db.close();
      port.postMessage({ stopped: true } satisfies FromCheckpointer);
    });
  }
});
