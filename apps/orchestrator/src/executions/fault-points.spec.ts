import { ProcessFaultPoints } from './fault-points';

describe('ProcessFaultPoints', () => {
  it('fires a configured point with its probability and ignores others', () => {
    const fired: string[] = [];
    const rolls = [0.01, 0.9];
    const faults = new ProcessFaultPoints(
      'after-state-write:0.5',
      (p) => fired.push(p),
      () => rolls.shift() ?? 1,
    );
    expect(faults.enabled).toBe(true);
    faults.hit('after-state-write');
    faults.hit('after-state-write');
    faults.hit('before-ack');
    expect(fired).toEqual(['after-state-write']);
  });

  it('is off when empty', () => {
    const faults = new ProcessFaultPoints('', () => {
      throw new Error('must not fire');
    });
    expect(faults.enabled).toBe(false);
    expect(() => faults.hit('after-state-write')).not.toThrow();
  });
});
