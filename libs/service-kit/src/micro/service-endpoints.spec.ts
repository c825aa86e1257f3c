import { apiSubject, isEndpointName } from './service-endpoints';

describe('endpoint names', () => {
  it('accepts tokens, optionally dot-separated', () => {
    expect(isEndpointName('workflows-list')).toBe(true);
    expect(isEndpointName('executions.list')).toBe(true);
    expect(isEndpointName('a_b.c-d.e')).toBe(true);
  });

  it('rejects wildcards, spaces and empty tokens', () => {
    for (const bad of ['', 'a b', 'a.*', 'a.>', '.a', 'a.', 'a..b', 'x'.repeat(129)]) {
      expect(isEndpointName(bad)).toBe(false);
    }
  });

  it('builds baton.api.<service>.<endpoint>', () => {
    expect(apiSubject('state-store', 'executions.list')).toBe('baton.api.state-store.executions.list');
  });
});
