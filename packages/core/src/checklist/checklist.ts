import type { ProgramDefinition } from '../program/program.js';
import { isDone, type MilestoneProgress, type MilestoneStatus } from '../progress/progress.js';
import type { MilestoneDue } from '../schedule/milestone-schedule.js';

export interface ChecklistItem {
  key: string;
  title: string;
  phase: string;
  status: MilestoneStatus;
  dueDate: string;
  completedAt: string | null;
  /** What reaching this milestone unlocks in the product, from its playbook. */
  unlocksFeature: string | null;
  inAppMessage: string | null;
}

export interface Checklist {
  items: ChecklistItem[];
  done: number;
  total: number;
  /** The open milestone due first: what the customer should do next. */
  next: string | null;
}

/**
 * The end user's view of an enrollment: ✓ done, ⏱ next, what each unlocks. Items in
 * due-date order (then program order); only the account's own milestones (its progress rows).
 */
export function checklistView(
  program: ProgramDefinition,
  progress: readonly MilestoneProgress[],
  schedule: readonly MilestoneDue[],
): Checklist {
  const byKey = new Map(progress.map((p) => [p.milestoneKey, p]));
  const dueByKey = new Map(schedule.map((d) => [d.milestoneKey, d]));
  const items: ChecklistItem[] = [];
  for (const milestone of program.milestones) {
    const row = byKey.get(milestone.key);
    const due = dueByKey.get(milestone.key);
    if (!row || !due) continue;
    items.push({
      key: milestone.key,
      title: milestone.title,
      phase: milestone.phase,
      status: row.status,
      dueDate: due.dueDate,
      completedAt: row.completedAt,
      unlocksFeature: milestone.playbook?.unlocksFeature ?? null,
      inAppMessage: milestone.playbook?.inAppMessage ?? null,
    });
  }
  items.sort((a, b) => a.dueDate.localeCompare(b.dueDate));
  return {
    items,
    done: items.filter((i) => isDone(i.status)).length,
    total: items.length,
    next: items.find((i) => i.status === 'open')?.key ?? null,
  };
}
