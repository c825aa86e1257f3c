import { Subjects, isValidSubjectPattern, subjectMatches, taskDurable } from './subjects';

describe('subjects', () => {
  it('matches NATS wildcards', () => {
    expect(subjectMatches('events.order.*', 'events.order.created')).toBe(true);
    expect(subjectMatches('events.order.*', 'events.order.created.eu')).toBe(false);
    expect(subjectMatches('events.>', 'events.order.created.eu')).toBe(true);
    expect(subjectMatches('events.>', 'events')).toBe(false);
    expect(subjectMatches('events.order', 'events.order')).toBe(true);
    expect(subjectMatches('events.*.created', 'events.user.created')).toBe(true);
    expect(subjectMatches('events.*.created', 'events.user.deleted')).toBe(false);
  });

  it('checks subject patterns', () => {
    expect(isValidSubjectPattern('events.order.*')).toBe(true);
    expect(isValidSubjectPattern('events.>.x')).toBe(false);
    expect(isValidSubjectPattern('events..x')).toBe(false);
    expect(isValidSubjectPattern('events.a b')).toBe(false);
  });

  it('builds task subjects and durable names one-to-one', () => {
    expect(Subjects.task('inventory.reserve')).toBe('baton.tasks.inventory.reserve');
    expect(taskDurable('inventory.reserve')).toBe('task_inventory_reserve');
    expect(() => Subjects.task('bad action')).toThrow(/invalid action/);
    expect(() => Subjects.result('a.b')).toThrow(/executionId/);
  });
});
