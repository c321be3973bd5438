import { describe, expect, it } from 'vitest';
import { initialProgress } from '../progress/progress.js';
import { completeMilestone } from '../progress/transitions.js';
import { milestoneSchedule } from '../schedule/milestone-schedule.js';
import { csm, milestone, program } from '../testing/fixtures.js';
import { checklistView } from './checklist.js';

describe('checklist view', () => {
  const p = program([
    milestone('invite', 2, [], {
      verification: ['auto'],
      criteria: 'event_count("Member Invited") >= 1',
    }),
    {
      ...milestone('project', 5),
      dependsOn: ['invite'],
      playbook: { unlocksFeature: 'Boards', inAppMessage: 'Create your first project' },
    },
    milestone('workflow', 9),
  ]);
  const enrollment = { startedAt: '2026-03-02T14:00:00.000Z', timeZone: 'Europe/Berlin' };
  const schedule = milestoneSchedule(p, enrollment, { holidays: [] });

  it('lists milestones by due date with what they unlock, and points at the first open one', () => {
    let progress = initialProgress(p, enrollment.startedAt, {});
    const done = completeMilestone(p, progress, {
      milestoneKey: 'invite',
      at: '2026-03-03T10:00:00.000Z',
      source: 'automatic',
      actor: csm,
    });
    if (!done.ok) throw new Error(done.error.message);
    progress = done.value.progress;
    const view = checklistView(p, progress, schedule);
    expect(view.items.map((i) => [i.key, i.status, i.dueDate])).toEqual([
      ['invite', 'completed', '2026-03-04'],
      ['project', 'open', '2026-03-07'],
      ['workflow', 'open', '2026-03-11'],
    ]);
    expect(view.items[1]).toMatchObject({
      unlocksFeature: 'Boards',
      inAppMessage: 'Create your first project',
    });
    expect(view).toMatchObject({ done: 1, total: 3, next: 'project' });
  });

  it('has no next step when everything is done or locked', () => {
    const view = checklistView(p, [], schedule);
    expect(view).toEqual({ items: [], done: 0, total: 0, next: null });
  });
});
