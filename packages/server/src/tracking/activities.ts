import type { MetricValue, TrackedActivity } from '@waymark/core';
import type { StoredEvent } from './events.repo.js';

/** A stored event, with its properties when the ingestion handed it over already parsed. */
export interface TrackedEvent extends StoredEvent {
  properties?: Record<string, unknown>;
}

/**
 * What one commit of the ingestion stored, in commit order, for the tracking to take without
 * reading it back: exactly the events after `after` where that is known (SQLite, where one
 * process writes events in `seq` order); elsewhere (`null`) the tracking checks it.
 */
export interface CommittedEvents {
  after: number | null;
  events: TrackedEvent[];
}

/** Calls that say something about an account's product use or traits. */
export const TRACKED_TYPES: ReadonlySet<string> = new Set(['track', 'page', 'screen', 'group']);

/**
 * A stored event as the metrics see it: a track call counts under its name, page and screen
 * views only as activity, and group calls as no user's activity (they carry traits).
 */
export function activityOf(
  event: Pick<
    TrackedEvent,
    | 'type'
    | 'event'
    | 'user_id'
    | 'anonymous_id'
    | 'timestamp'
    | 'payload'
    | 'message_id'
    | 'properties'
  >,
  traits?: Record<string, MetricValue>,
): TrackedActivity {
  let properties = event.properties;
  return {
    event: event.type === 'track' ? event.event : null,
    user: event.type === 'group' ? null : (event.user_id ?? event.anonymous_id),
    at: Date.parse(event.timestamp),
    // Parsed only when a filter asks for them.
    get properties() {
      properties ??=
        (JSON.parse(event.payload) as { properties?: Record<string, unknown> }).properties ?? {};
      return properties;
    },
    ref: {
      messageId: event.message_id,
      type: event.type,
      event: event.event,
      timestamp: event.timestamp,
    },
    ...(traits !== undefined && { traits }),
  };
}
