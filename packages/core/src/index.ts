export {
  DEFAULT_LOCKOUT_POLICY,
  type LockoutPolicy,
  type LoginFailures,
  lockedUntil,
  recordFailure,
} from './access/lockout.js';
export {
  can,
  isRole,
  type Permission,
  permissionDescriptions,
  permissionMatrix,
  permissions,
  type Role,
  roles,
} from './access/permissions.js';
export {
  ACCOUNT_CSV_COLUMNS,
  type AccountCsvError,
  type AccountCsvRow,
  type AccountsCsv,
  parseAccountsCsv,
  type TraitValue,
  traitValue,
} from './accounts/accounts-csv.js';
export { type Checklist, type ChecklistItem, checklistView } from './checklist/checklist.js';
export { type CompiledCriteria, compileCriteria } from './criteria/compile-criteria.js';
export { type CriteriaError, positionAt } from './criteria/criteria-error.js';
export {
  type CriteriaEvaluation,
  evaluateCriteria,
  type MetricValue,
  type MetricValues,
} from './criteria/evaluate-criteria.js';
export {
  CRITERIA_FUNCTIONS,
  CRITERIA_VARIABLES,
  type CriteriaDefinition,
} from './criteria/functions.js';
export {
  canonicalFilter,
  eventMatchesFilter,
  type FilterValue,
  type Metric,
  metricKey,
  parseMetricKey,
  uniqueMetrics,
} from './criteria/metrics.js';
export {
  type DependencyNode,
  directDependents,
  findDependencyCycle,
  findDependencyCycles,
  topologicalOrder,
  transitiveDependents,
} from './program/dependency-graph.js';
export {
  checkProgramDefinition,
  type DayCounting,
  dayCountingSchema,
  type Milestone,
  milestoneSchema,
  type Phase,
  type Playbook,
  type ProgramCheck,
  type ProgramDefinition,
  type ProgramDefinitionInput,
  parseProgramDefinition,
  phaseSchema,
  playbookSchema,
  programDefinitionSchema,
  slugSchema,
  type Task,
  taskSchema,
  type VerificationMethod,
  verificationMethodSchema,
} from './program/program.js';
export { programJsonSchema } from './program/program-json-schema.js';
export {
  checkProgramYaml,
  formatIssue,
  type LocatedIssue,
  type ProgramYamlCheck,
  parseProgramYaml,
  serializeProgramYaml,
} from './program/program-yaml.js';
export {
  type ProgramIssue,
  type ProgramValidation,
  validateProgram,
} from './program/validate-program.js';
export {
  type DependencyChange,
  diffProgramVersions,
  type MigratedProgress,
  type MilestoneRedated,
  migrateProgress,
  type ProgramVersionDiff,
} from './program/version-diff.js';
export {
  type AccountSegment,
  type Actor,
  applicableMilestones,
  type CompletionSource,
  effectiveDependencies,
  initialProgress,
  isDone,
  lockedProgress,
  type MilestoneProgress,
  type MilestoneStatus,
} from './progress/progress.js';
export type {
  CompleteMilestoneInput,
  ProgressChange,
  ProgressChangeType,
  ProgressError,
  ProgressUpdate,
  ReopenMilestoneInput,
  TransitionResult,
  WaiveMilestoneInput,
} from './progress/progress-change.js';
export {
  DEFAULT_AT_RISK_AFTER_DAYS,
  type MilestoneTiming,
  milestoneTiming,
  resolveTimingSettings,
  type TimingSettings,
} from './progress/timing.js';
export { completeMilestone, reopenMilestone, waiveMilestone } from './progress/transitions.js';
export { err, ok, type Result } from './result.js';
export {
  addBusinessDays,
  addDays,
  businessDayTest,
  type DayCountingRules,
  DEFAULT_WEEKEND,
} from './schedule/business-days.js';
export {
  addCalendarDays,
  assertTimeZone,
  daysBetween,
  type Instant,
  instantMillis,
  isInstant,
  isLocalDate,
  isoWeekday,
  isValidTimeZone,
  type LocalDate,
  localDateOf,
  ScheduleInputError,
  type ScheduleInputErrorCode,
  startOfLocalDay,
} from './schedule/local-date.js';
export {
  type EnrollmentClock,
  type MilestoneDue,
  milestoneSchedule,
  type WorkCalendar,
} from './schedule/milestone-schedule.js';
export {
  type ScheduleStatus,
  type ScheduleStatusValue,
  scheduleStatus,
} from './status/schedule-status.js';
export * from './tracking/index.js';
