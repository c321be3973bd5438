import type { ColumnType, Generated } from 'kysely';

/**
 * The tables as the drivers hand them over, after the codec in `postgres.ts` has
 * made PostgreSQL return the same shapes as SQLite: instants as ISO-8601 UTC text,
 * dates as `YYYY-MM-DD`, JSON as text, booleans as 0/1 or true/false (see codec.ts).
 */
type Instant = string;
type LocalDate = string;
type JsonText = string;
type Flag = ColumnType<number | boolean, 0 | 1, 0 | 1>;

export interface WorkspacesTable {
  id: string;
  /**
   * The workspace's number, 1, 2, 3… in the order they were created: what keys it in the tables
   * that hold an entry for every event (`event_ids`), where an integer costs far less than `id`.
   */
  ref: number;
  slug: string;
  name: string;
  time_zone: string;
  settings: JsonText;
  created_at: Instant;
  updated_at: Instant;
}

export interface UsersTable {
  id: string;
  workspace_id: string;
  email: string;
  name: string;
  role: string;
  manager_id: string | null;
  active: Flag;
  password_hash: string | null;
  last_login_at: Instant | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface AccountsTable {
  id: string;
  workspace_id: string;
  external_id: string;
  name: string;
  segment: string | null;
  owner_user_id: string | null;
  time_zone: string | null;
  traits: JsonText;
  outcome: JsonText | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface ContactsTable {
  id: string;
  workspace_id: string;
  account_id: string;
  email: string;
  name: string;
  title: string | null;
  created_at: Instant;
  updated_at: Instant;
}

export interface ProgramsTable {
  id: string;
  workspace_id: string;
  key: string;
  name: string;
  created_at: Instant;
  updated_at: Instant;
  /** Set while the program is archived; null when it is in use. */
  archived_at: Instant | null;
}

export interface ProgramVersionsTable {
  id: string;
  workspace_id: string;
  program_id: string;
  version: number;
  status: 'draft' | 'published';
  definition: JsonText;
  definition_hash: string;
  published_at: Instant | null;
  created_at: Instant;
}

export interface EnrollmentsTable {
  id: string;
  workspace_id: string;
  account_id: string;
  program_version_id: string;
  started_at: Instant;
  go_live_date: LocalDate | null;
  owner_user_id: string | null;
  variant: string | null;
  status: 'active' | 'completed' | 'cancelled';
  created_at: Instant;
  updated_at: Instant;
}

export interface MilestoneProgressTable {
  workspace_id: string;
  enrollment_id: string;
  milestone_key: string;
  status: 'locked' | 'open' | 'completed' | 'waived';
  opened_at: Instant | null;
  completed_at: Instant | null;
  completion_source: 'automatic' | 'csm' | 'client' | null;
  evidence: JsonText | null;
  verified_by_type: string | null;
  verified_by_id: string | null;
  waived_at: Instant | null;
  waived_by_type: string | null;
  waived_by_id: string | null;
  waiver_reason: string | null;
  updated_at: Instant;
}

export interface AuditEventsTable {
  id: Generated<number>;
  workspace_id: string;
  occurred_at: Instant;
  actor_type: string;
  actor_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string;
  before: JsonText | null;
  after: JsonText | null;
  context: JsonText | null;
}

export interface SessionsTable {
  token_hash: string;
  workspace_id: string;
  user_id: string;
  created_at: Instant;
  expires_at: Instant;
  last_seen_at: Instant;
  revoked_at: Instant | null;
}

export interface InvitationsTable {
  id: string;
  token_hash: string;
  workspace_id: string;
  email: string;
  role: string;
  manager_id: string | null;
  invited_by: string;
  created_at: Instant;
  expires_at: Instant;
  accepted_at: Instant | null;
  revoked_at: Instant | null;
}

export interface SetupTokensTable {
  token_hash: string;
  created_at: Instant;
  expires_at: Instant;
  used_at: Instant | null;
}

export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  kind: 'secret' | 'write' | 'publishable';
  name: string;
  role: string | null;
  prefix: string;
  token_hash: string;
  created_by: string | null;
  created_at: Instant;
  last_used_at: Instant | null;
  revoked_at: Instant | null;
}

export interface LoginFailuresTable {
  email: string;
  failures: number;
  first_failure_at: Instant;
  locked_until: Instant | null;
}

/**
 * Stored events, a row for each batch of calls of one workspace received at one instant and
 * written in one commit (decision 0018; `tracking/event-batches.ts` reads and writes its texts).
 * An event's `seq` is its batch's id × 2¹⁶ + its position among the batch's calls.
 */
export interface EventBatchesTable {
  id: Generated<number>;
  /** The writing transaction on PostgreSQL (text of an xid8); always 0 on SQLite. */
  txid: Generated<string | number>;
  workspace_id: string;
  received_at: Instant;
  size: number;
  /** The account index's spans: each account's `[account_ref, oldest ms, newest ms]`, JSON. */
  accounts: string;
  /** Each call's message id, type, event, account, user, anonymous id and corrected time, JSON. */
  calls: string;
  /** The calls' texts as sent, between U+001E. */
  payloads: string;
}

/** The message ids each workspace has stored: a retried call is known by its id. */
export interface EventIdsTable {
  /** The workspace's `ref`. */
  workspace_ref: number;
  message_id: string;
}

/**
 * Which stored batches hold which account's events, by time: the index the account timeline and
 * rebuilds read, an entry for each account of a batch. Written in bulk by the tracker up to the
 * cursor named `account_events` (see `indexAccountEvents`), not with each batch.
 */
export interface AccountEventsTable {
  /** `accountRef` of the workspace and account; shared refs are told apart by the events. */
  account_ref: number;
  /** Whole days since 1970 of `at` (rounded toward zero): an account's batches are read newest day first. */
  day: number;
  /** The time of the account's newest event in the batch, in milliseconds since 1970. */
  at: number;
  batch: number;
  /** The time of the account's oldest event in the batch, in milliseconds since 1970. */
  oldest: number;
}

export interface AccountUsersTable {
  workspace_id: string;
  user_key: string;
  account_key: string;
  updated_at: Instant;
}

export interface EnrollmentMetricsTable {
  enrollment_id: string;
  workspace_id: string;
  state: JsonText;
  rebuild_requested_at: Instant | null;
  updated_at: Instant;
}

export interface TrackingCursorTable {
  name: string;
  txid: string | number;
  seq: number;
  updated_at: Instant;
}

/** How many changes the tracking's inputs have seen (migration 0007): one row, id 1. */
export interface TrackingVersionTable {
  id: number;
  changes: string | number;
}

export interface DB {
  workspaces: WorkspacesTable;
  users: UsersTable;
  accounts: AccountsTable;
  contacts: ContactsTable;
  programs: ProgramsTable;
  program_versions: ProgramVersionsTable;
  enrollments: EnrollmentsTable;
  milestone_progress: MilestoneProgressTable;
  audit_events: AuditEventsTable;
  sessions: SessionsTable;
  invitations: InvitationsTable;
  setup_tokens: SetupTokensTable;
  api_keys: ApiKeysTable;
  login_failures: LoginFailuresTable;
  event_batches: EventBatchesTable;
  event_ids: EventIdsTable;
  account_events: AccountEventsTable;
  account_users: AccountUsersTable;
  enrollment_metrics: EnrollmentMetricsTable;
  tracking_cursor: TrackingCursorTable;
  tracking_version: TrackingVersionTable;
}
