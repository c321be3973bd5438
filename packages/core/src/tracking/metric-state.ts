import type { MetricValue, MetricValues } from '../criteria/evaluate-criteria.js';
import {
  eventMatchesFilter,
  type FilterValue,
  type Metric,
  metricKey,
} from '../criteria/metrics.js';

// The product metrics one enrollment's criteria read, kept up to date event by event, so that
// evaluation costs the same however many events an account has sent.
//
// Windows are counted in whole UTC hours: a window of W seconds at time t covers the
// ceil(W / 3600) hours up to and including the hour of t. Event counts keep one number per hour
// and active users the last hour each user was seen, so the state stays small (at most one
// entry per hour of the longest window, and one per user seen in it).

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** What the product did: one track call (with its name) or page/screen call (name null). */
export interface Activity {
  /** The track event's name; null for a page or screen view (it counts only as activity). */
  event: string | null;
  /** Who did it (`userId`, else `anonymousId`); null counts for events but not for users. */
  user: string | null;
  /** When it happened, epoch milliseconds. */
  at: number;
  properties: Readonly<Record<string, unknown>>;
}

interface EventCountPlan {
  key: string;
  filter: Readonly<Record<string, FilterValue>>;
  /** Whether the filter names any property: only then are the event's properties read. */
  filtered: boolean;
  /** null: since the enrollment started. */
  windowHours: number | null;
}

/** How to keep a set of metrics: which event names feed which counts, which windows exist. */
export interface MetricPlan {
  readonly metrics: readonly Metric[];
  readonly countsByEvent: ReadonlyMap<string, readonly EventCountPlan[]>;
  readonly activeUsers: readonly { key: string; windowHours: number }[];
  readonly traits: readonly { key: string; name: string }[];
  readonly daysSinceEnrollment: boolean;
  /** The longest window of any count, in hours (0 when there is none): older hours are dropped. */
  readonly countHorizonHours: number;
  /** The longest active-users window, in hours (0 when there is none). */
  readonly userHorizonHours: number;
}

/** The kept values. Hours are `floor(epoch ms / 3,600,000)`. */
export interface MetricState {
  /** The latest event time applied, epoch milliseconds; null before the first. */
  latest: number | null;
  /** Counts since the enrollment started, by metric key. */
  counts: Record<string, number>;
  /** Windowed counts: metric key → hour → count. */
  hourly: Record<string, Record<string, number>>;
  /**
   * The last hour each user was seen, for active-users windows. A map, not an object: looked up
   * for every event by a name just read, which an object would first look up among every name
   * the process holds (5.5% of the tracking thread, measured).
   */
  users: Map<string, number>;
}

/** A state as stored: JSON. */
export type StoredMetricState = Omit<MetricState, 'users'> & { users: Record<string, number> };

export function storedMetricState(state: MetricState): StoredMetricState {
  return { ...state, users: Object.fromEntries(state.users) };
}

export function metricStateOf(stored: StoredMetricState): MetricState {
  return { ...stored, users: new Map(Object.entries(stored.users)) };
}

export function planMetrics(metrics: readonly Metric[]): MetricPlan {
  const countsByEvent = new Map<string, EventCountPlan[]>();
  const activeUsers: { key: string; windowHours: number }[] = [];
  const traits: { key: string; name: string }[] = [];
  let daysSinceEnrollment = false;
  let countHorizonHours = 0;
  let userHorizonHours = 0;
  for (const metric of metrics) {
    const key = metricKey(metric);
    switch (metric.kind) {
      case 'event_count': {
        const windowHours =
          metric.windowSeconds === null ? null : windowInHours(metric.windowSeconds);
        if (windowHours !== null) countHorizonHours = Math.max(countHorizonHours, windowHours);
        const plans = countsByEvent.get(metric.event) ?? [];
        const filtered = Object.keys(metric.filter).length > 0;
        plans.push({ key, filter: metric.filter, filtered, windowHours });
        countsByEvent.set(metric.event, plans);
        break;
      }
      case 'active_users': {
        const windowHours = windowInHours(metric.windowSeconds);
        userHorizonHours = Math.max(userHorizonHours, windowHours);
        activeUsers.push({ key, windowHours });
        break;
      }
      case 'trait':
        traits.push({ key, name: metric.name });
        break;
      case 'days_since_enrollment':
        daysSinceEnrollment = true;
        break;
    }
  }
  return {
    metrics,
    countsByEvent,
    activeUsers,
    traits,
    daysSinceEnrollment,
    countHorizonHours,
    userHorizonHours,
  };
}

/**
 * Whether metric values can change with time alone, with no event: days since the enrollment
 * started, or a window that events slide out of.
 */
export function changesWithTime(plan: MetricPlan): boolean {
  return plan.daysSinceEnrollment || plan.countHorizonHours > 0 || plan.userHorizonHours > 0;
}

/** Hours a window covers: whole hours, rounded up (a 90-minute window counts 2 hours). */
export function windowInHours(windowSeconds: number): number {
  return Math.max(1, Math.ceil(windowSeconds / 3600));
}

export function emptyMetricState(): MetricState {
  return { latest: null, counts: {}, hourly: {}, users: new Map() };
}

const NOTHING_CHANGED: readonly string[] = Object.freeze([]);

/**
 * Adds one activity to the state, in place, and returns the keys of the metrics it changed.
 * The result does not depend on the order activities are applied in: counts add up, and a
 * user's last hour is a maximum. Activities before `startedAt` feed only windowed metrics
 * (a window may reach back before the enrollment); counts "since the enrollment started"
 * ignore them. Most activities change nothing (a user seen in the same hour, an event no
 * criterion counts): they cost no allocation, and their properties are read only by a filter.
 */
export function applyActivity(
  state: MetricState,
  plan: MetricPlan,
  activity: Activity,
  startedAt: number,
): readonly string[] {
  let changed: string[] | null = null;
  const hour = Math.floor(activity.at / HOUR_MS);
  if (activity.event !== null) {
    const plans = plan.countsByEvent.get(activity.event);
    if (plans !== undefined) {
      for (const count of plans) {
        if (count.filtered && !eventMatchesFilter(count.filter, activity.properties)) continue;
        if (count.windowHours === null) {
          if (activity.at < startedAt) continue;
          state.counts[count.key] = (state.counts[count.key] ?? 0) + 1;
        } else {
          const hours = state.hourly[count.key] ?? {};
          hours[hour] = (hours[hour] ?? 0) + 1;
          state.hourly[count.key] = hours;
        }
        changed ??= [];
        changed.push(count.key);
      }
    }
  }
  if (activity.user !== null && plan.activeUsers.length > 0) {
    const seen = state.users.get(activity.user);
    if (seen === undefined || seen < hour) {
      state.users.set(activity.user, hour);
      changed ??= [];
      for (const users of plan.activeUsers) changed.push(users.key);
    }
  }
  if (state.latest === null || activity.at > state.latest) state.latest = activity.at;
  return changed ?? NOTHING_CHANGED;
}

/** Drops the hours and users no window can reach any more, as seen from the latest event. */
export function pruneMetricState(state: MetricState, plan: MetricPlan): void {
  if (state.latest === null) return;
  const latestHour = Math.floor(state.latest / HOUR_MS);
  for (const [key, hours] of Object.entries(state.hourly)) {
    for (const hour of Object.keys(hours)) {
      if (Number(hour) <= latestHour - plan.countHorizonHours) delete hours[hour];
    }
    if (Object.keys(hours).length === 0) delete state.hourly[key];
  }
  for (const [user, hour] of state.users) {
    if (hour <= latestHour - plan.userHorizonHours) state.users.delete(user);
  }
}

/**
 * The metric values the criteria read, as of `at` (epoch ms): counts since the enrollment
 * started, windowed counts and active users over the hours of their window up to the hour of
 * `at`, the account's traits, and whole days since the enrollment started.
 */
export function metricValuesAt(
  state: MetricState,
  plan: MetricPlan,
  at: number,
  account: { traits: Readonly<Record<string, MetricValue>>; startedAt: number },
): MetricValues {
  const values: Record<string, MetricValue> = {};
  const hour = Math.floor(at / HOUR_MS);
  for (const plans of plan.countsByEvent.values()) {
    for (const count of plans) {
      if (count.windowHours === null) {
        values[count.key] = state.counts[count.key] ?? 0;
      } else {
        values[count.key] = sumHours(state.hourly[count.key], hour, count.windowHours);
      }
    }
  }
  for (const users of plan.activeUsers) {
    let active = 0;
    for (const seen of state.users.values()) {
      if (seen <= hour && seen > hour - users.windowHours) active += 1;
    }
    values[users.key] = active;
  }
  for (const trait of plan.traits) {
    if (Object.hasOwn(account.traits, trait.name)) {
      values[trait.key] = account.traits[trait.name] as MetricValue;
    }
  }
  if (plan.daysSinceEnrollment) {
    values.days_since_enrollment = Math.floor((at - account.startedAt) / DAY_MS);
  }
  return values;
}

function sumHours(
  hours: Readonly<Record<string, number>> | undefined,
  hour: number,
  windowHours: number,
): number {
  if (hours === undefined) return 0;
  let sum = 0;
  for (const [key, count] of Object.entries(hours)) {
    const h = Number(key);
    if (h <= hour && h > hour - windowHours) sum += count;
  }
  return sum;
}
