import { accountRef } from './account-ref.js';
import type { NewEvent, StoredEvent } from './events.repo.js';

/*
 * How events are stored (decision 0018): a row for each batch of calls of one workspace
 * received at one instant and written in one commit (a request, or requests that arrived
 * together), not a row for each call. An event keeps its `seq`: its batch's id × 2¹⁶ + its
 * position among the batch's calls. A 500 KB request holds fewer than 18,000 valid calls, and
 * ids stay exact in a double up to 2³⁷ batches.
 */

export const CALLS_PER_BATCH = 65_536;

export const seqOf = (batch: number, position: number): number =>
  batch * CALLS_PER_BATCH + position;
export const batchOf = (seq: number): number => Math.floor(seq / CALLS_PER_BATCH);
export const positionOf = (seq: number): number => seq % CALLS_PER_BATCH;

/** What a batch's row holds besides its id and transaction. */
export interface BatchContent {
  workspace_id: string;
  received_at: string;
  /** How many calls it holds. */
  size: number;
  /** Each call's `[message_id, type, event, account_key, user_id, anonymous_id, timestamp]`, as JSON. */
  calls: string;
  /**
   * Each account's `[account_ref, oldest, newest]` (times in ms) among the calls, as JSON: what
   * the account index takes, without the calls being read.
   */
  accounts: string;
  /** The calls' texts as sent, between U+001E (JSON text never holds it raw). */
  payloads: string;
}

/** What a batch's row is written with. */
export const CONTENT_COLUMNS = [
  'workspace_id',
  'received_at',
  'size',
  'accounts',
  'calls',
  'payloads',
] as const satisfies readonly (keyof BatchContent)[];

/** What a batch keeps of each call beside its text, in this order. */
export type Call = [
  message_id: string,
  type: string,
  event: string | null,
  account_key: string | null,
  user_id: string | null,
  anonymous_id: string | null,
  timestamp: string,
];

export type AccountSpan = [account_ref: number, oldest: number, newest: number];

const PAYLOAD_SEPARATOR = '\u001e';

/** A batch as the ingestion hands it to the writer: its row, and its calls' message ids. */
export interface BatchToWrite {
  content: BatchContent;
  /** The calls' message ids, in order, as a JSON array: SQLite reads them so (`json_each`). */
  messageIds: string;
}

/** Makes up a batch's row, a call at a time, in order. */
export class BatchBuilder {
  readonly #messageIds: string[] = [];
  readonly #calls: Call[] = [];
  readonly #payloads: string[] = [];
  readonly #spans = new Map<string, AccountSpan>();

  constructor(
    readonly workspaceId: string,
    readonly receivedAt: string,
  ) {}

  /** A call, its time in ms (its `timestamp`'s), and its text as sent. */
  add(call: Call, at: number, payload: string): void {
    if (payload === '' || payload.includes(PAYLOAD_SEPARATOR)) {
      throw new Error('an event payload must be JSON text: empty, or holding U+001E raw');
    }
    this.#calls.push(call);
    this.#payloads.push(payload);
    this.#messageIds.push(call[0]);
    const account = call[3];
    if (account === null) return;
    const span = this.#spans.get(account);
    if (span === undefined) {
      this.#spans.set(account, [accountRef(this.workspaceId, account), at, at]);
    } else if (at < span[1]) span[1] = at;
    else if (at > span[2]) span[2] = at;
  }

  get size(): number {
    return this.#calls.length;
  }

  toWrite(): BatchToWrite {
    if (this.#calls.length === 0) throw new Error('a batch holds at least one call');
    return {
      content: {
        workspace_id: this.workspaceId,
        received_at: this.receivedAt,
        size: this.#calls.length,
        calls: JSON.stringify(this.#calls),
        accounts: JSON.stringify([...this.#spans.values()]),
        payloads: this.#payloads.join(PAYLOAD_SEPARATOR),
      },
      messageIds: JSON.stringify(this.#messageIds),
    };
  }
}

/**
 * The batches a list of events goes in, in order: each run of events of one workspace received
 * at one instant, at most `CALLS_PER_BATCH` long.
 */
export function batchesOf(events: readonly NewEvent[]): BatchToWrite[] {
  const batches: BatchToWrite[] = [];
  let builder: BatchBuilder | null = null;
  for (const event of events) {
    if (
      builder === null ||
      event.workspace_id !== builder.workspaceId ||
      event.received_at !== builder.receivedAt ||
      builder.size === CALLS_PER_BATCH
    ) {
      if (builder !== null) batches.push(builder.toWrite());
      builder = new BatchBuilder(event.workspace_id, event.received_at);
    }
    builder.add(
      [
        event.message_id,
        event.type,
        event.event,
        event.account_key,
        event.user_id,
        event.anonymous_id,
        event.timestamp,
      ],
      Date.parse(event.timestamp),
      event.payload,
    );
  }
  if (builder !== null) batches.push(builder.toWrite());
  return batches;
}

/** A batch of only some of its calls (`kept`, 1 for each kept): those that were new. */
export function keptOf(content: BatchContent, kept: ArrayLike<number>): BatchToWrite {
  const events = eventsOfBatch({ ...content, id: 0, txid: '0' });
  return batchesOf(events.filter((_, i) => kept[i] === 1)).at(0) as BatchToWrite;
}

/** A stored batch's row, as read. */
export interface BatchRow extends BatchContent {
  id: number;
  txid: string;
}

/** The events of a stored batch, in position order. */
export function eventsOfBatch(row: BatchRow): StoredEvent[] {
  const calls = JSON.parse(row.calls) as Call[];
  const payloads = row.payloads.split(PAYLOAD_SEPARATOR);
  const id = Number(row.id);
  const txid = String(row.txid);
  return calls.map((call, position) => ({
    seq: seqOf(id, position),
    txid,
    workspace_id: row.workspace_id,
    message_id: call[0],
    type: call[1],
    event: call[2],
    account_key: call[3],
    user_id: call[4],
    anonymous_id: call[5],
    timestamp: call[6],
    received_at: row.received_at,
    payload: payloads[position] as string,
  }));
}

/** The message ids of a stored batch's calls. */
export const messageIdsOf = (calls: string): string[] =>
  (JSON.parse(calls) as Call[]).map((call) => call[0]);

export const accountSpansOf = (accounts: string): AccountSpan[] =>
  JSON.parse(accounts) as AccountSpan[];
