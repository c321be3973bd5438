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

type Call = [
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

/**
 * The batches a commit's events go in, as `[start, end)` ranges of the list: each run of
 * events of one workspace received at one instant, at most `CALLS_PER_BATCH` long.
 */
export function batchRanges(events: readonly NewEvent[]): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  for (let i = 1; i <= events.length; i++) {
    const previous = events[i - 1] as NewEvent;
    const event = events[i];
    if (
      event === undefined ||
      event.workspace_id !== previous.workspace_id ||
      event.received_at !== previous.received_at ||
      i - start === CALLS_PER_BATCH
    ) {
      ranges.push([start, i]);
      start = i;
    }
  }
  return ranges;
}

/** The row of a batch of events, all of one workspace received at one instant. */
export function batchContent(events: readonly NewEvent[]): BatchContent {
  const first = events[0];
  if (first === undefined) throw new Error('a batch holds at least one event');
  const calls: Call[] = new Array(events.length);
  const payloads: string[] = new Array(events.length);
  const spans = new Map<string, AccountSpan>();
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as NewEvent;
    const { payload } = event;
    if (payload === '' || payload.includes(PAYLOAD_SEPARATOR)) {
      throw new Error('an event payload must be JSON text: empty, or holding U+001E raw');
    }
    calls[i] = [
      event.message_id,
      event.type,
      event.event,
      event.account_key,
      event.user_id,
      event.anonymous_id,
      event.timestamp,
    ];
    payloads[i] = payload;
    if (event.account_key !== null) {
      const at = Date.parse(event.timestamp);
      const span = spans.get(event.account_key);
      if (span === undefined) {
        spans.set(event.account_key, [accountRef(event.workspace_id, event.account_key), at, at]);
      } else if (at < span[1]) span[1] = at;
      else if (at > span[2]) span[2] = at;
    }
  }
  return {
    workspace_id: first.workspace_id,
    received_at: first.received_at,
    size: events.length,
    calls: JSON.stringify(calls),
    accounts: JSON.stringify([...spans.values()]),
    payloads: payloads.join(PAYLOAD_SEPARATOR),
  };
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
