export { instantMs, isoInstant } from './iso-instant.js';
export {
  type Activity,
  applyActivity,
  changesWithTime,
  emptyMetricState,
  type MetricPlan,
  type MetricState,
  metricStateOf,
  metricValuesAt,
  planMetrics,
  pruneMetricState,
  type StoredMetricState,
  storedMetricState,
  windowInHours,
} from './metric-state.js';
export {
  type CriteriaMet,
  type ReplaySummary,
  replayCriteria,
  summarizeReplay,
} from './replay-criteria.js';
export {
  type MessageFault,
  parseSegmentBatch,
  parseSegmentCall,
  SEGMENT_CALL_TYPES,
  SEGMENT_LIMITS,
  type SegmentCallType,
  type SegmentMessage,
  writeKeyInBody,
} from './segment-message.js';
export {
  type AdvanceInput,
  type AdvanceResult,
  advanceEnrollment,
  type EventRef,
  TRACKING_ACTOR,
  type TrackedActivity,
  type TrackedProgram,
  trackProgram,
} from './track-enrollment.js';
