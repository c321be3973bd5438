import { type EventRef, instantMs, type MetricValue, type TrackedActivity } from '@waymark/core';
import type { StoredEvent } from './events.repo.js';

/**
 * What one commit of the ingestion stored, in commit order, for the tracking to take without
 * reading it back: exactly the events after `after` where that is known (SQLite, where one
 * process writes events in `seq` order); elsewhere (`null`) the tracking checks it.
 */
export interface CommittedEvents {
  after: number | null;
  events: StoredEvent[];
}

/** Calls that say something about an account's product use or traits. */
export const TRACKED_TYPES: ReadonlySet<string> = new Set(['track', 'page', 'screen', 'group']);

type ActivitySource = Pick<
  StoredEvent,
  'type' | 'event' | 'user_id' | 'anonymous_id' | 'timestamp' | 'payload' | 'message_id'
>;

/**
 * A stored event as the metrics see it: a track call counts under its name, page and screen
 * views only as activity, and group calls as no user's activity (they carry traits). The
 * tracking makes one per event, so what most events never need is worked out only when asked:
 * the properties (parsed from the payload, for a filter) and the reference to the event (the
 * evidence of a completion).
 */
class StoredActivity implements TrackedActivity {
  readonly event: string | null;
  readonly user: string | null;
  readonly at: number;
  readonly traits?: Record<string, MetricValue>;
  readonly #stored: ActivitySource;
  #properties: Record<string, unknown> | undefined;

  constructor(stored: ActivitySource, traits?: Record<string, MetricValue>) {
    this.event = stored.type === 'track' ? stored.event : null;
    this.user = stored.type === 'group' ? null : (stored.user_id ?? stored.anonymous_id);
    this.at = instantMs(stored.timestamp);
    if (traits !== undefined) this.traits = traits;
    this.#stored = stored;
  }

  get properties(): Record<string, unknown> {
    this.#properties ??=
      (JSON.parse(this.#stored.payload) as { properties?: Record<string, unknown> }).properties ??
      {};
    return this.#properties;
  }

  get ref(): EventRef {
    const { message_id, type, event, timestamp } = this.#stored;
    return { messageId: message_id, type, event, timestamp };
  }
}

export function activityOf(
  event: ActivitySource,
  traits?: Record<string, MetricValue>,
): TrackedActivity {
  return new StoredActivity(event, traits);
}
