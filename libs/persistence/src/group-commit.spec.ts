import { deliveriesForGroups } from './group-commit';

describe('deliveriesForGroups', () => {
  it('holds one group more than the groups committing at once', () => {
    expect(deliveriesForGroups(100, 2, 1000)).toBe(300);
    expect(deliveriesForGroups(200, 2, 1000)).toBe(600);
    expect(deliveriesForGroups(1, 1, 1000)).toBe(2);
  });

  it('never exceeds the limit of unacknowledged messages, and is at least one', () => {
    expect(deliveriesForGroups(1000, 4, 1000)).toBe(1000);
    expect(deliveriesForGroups(0, 0, 1000)).toBe(2);
    expect(deliveriesForGroups(10, 2, 0)).toBe(1);
  });
});
