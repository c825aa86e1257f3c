import { runEsm } from '../testing/run-esm';

interface Run {
  lines: string[];
  unexpected: string[];
  alive: Record<string, boolean>;
}

/**
 * Runs children under a Supervisor in a child process: `children` are [name, script] pairs (the script runs
 * with `node -e`), then stops them all and reports the output lines, unexpected exits and which pids are
 * still alive afterwards.
 */
function supervise(children: [string, string][], before = ''): Run {
  return runEsm<Run>(
    `
    import { Writable } from 'node:stream';
    import { setTimeout as sleep } from 'node:timers/promises';
    import { Supervisor } from './scripts/lib/supervisor.mjs';
    const lines = [];
    let buffer = '';
    const out = new Writable({ write(chunk, _e, cb) { buffer += chunk; const parts = buffer.split('\\n'); buffer = parts.pop(); lines.push(...parts); cb(); } });
    const unexpected = [];
    const sup = new Supervisor({ out, color: false, onUnexpectedExit: (name, code) => unexpected.push(name + ':' + code) });
    const started = [];
    for (const [name, script] of __input) {
      const child = sup.spawn(name, process.execPath, ['-e', script], { stopTimeoutMs: 500 });
      started.push([name, child]);
      // each child says "up" once it has installed its handlers
      while (!lines.some((l) => l.startsWith(name) && l.endsWith('up')) && child.running) await sleep(20);
    }
    ${before}
    await sup.stopAll();
    await sup.stopAll();
    const alive = {};
    for (const [name, child] of started) {
      try { process.kill(child.process.pid, 0); alive[name] = true; } catch { alive[name] = false; }
    }
    console.log(JSON.stringify({ lines: lines.map((l) => l.replace(/^(\\S+)\\s+\\|/, '$1 |')), unexpected, alive }));
  `,
    children,
  );
}

const GRACEFUL = (name: string): string =>
  `process.on('SIGTERM', () => { console.log('${name} draining'); setTimeout(() => process.exit(0), 50); });` +
  `console.log('partial '); console.log('up'); setInterval(() => {}, 1000);`;

describe('scripts/lib/supervisor.mjs', () => {
  it('prefixes every output line with the child name', () => {
    const run = supervise([
      ['nats', GRACEFUL('nats')],
      ['orchestrator', `console.error('to stderr'); ${GRACEFUL('orchestrator')}`],
    ]);
    expect(run.lines).toEqual(
      expect.arrayContaining(['nats | partial ', 'orchestrator | to stderr', 'orchestrator | up']),
    );
  });

  it('stops children last-started first, each after the previous one exited', () => {
    const run = supervise([
      ['first', GRACEFUL('first')],
      ['second', GRACEFUL('second')],
      ['third', GRACEFUL('third')],
    ]);
    const events = run.lines.filter((l) => /draining|stopped/.test(l));
    expect(events).toEqual([
      'third | third draining',
      'third | stopped (code 0)',
      'second | second draining',
      'second | stopped (code 0)',
      'first | first draining',
      'first | stopped (code 0)',
    ]);
    expect(run.unexpected).toEqual([]);
    expect(run.alive).toEqual({ first: false, second: false, third: false });
  });

  it('kills a child that ignores SIGTERM once its stop timeout passes', () => {
    const run = supervise([
      [
        'stubborn',
        `process.on('SIGTERM', () => console.log('ignoring')); console.log('up'); setInterval(() => {}, 1000);`,
      ],
    ]);
    expect(run.lines.some((l) => l.includes('ignoring'))).toBe(true);
    expect(run.lines.some((l) => /did not exit .* SIGKILL/.test(l))).toBe(true);
    expect(run.lines.some((l) => l.includes('stopped (SIGKILL)'))).toBe(true);
    expect(run.alive).toEqual({ stubborn: false });
  });

  it('reports a child that exits on its own, but not children it stops', () => {
    const run = supervise(
      [
        ['steady', GRACEFUL('steady')],
        ['crashy', `console.log('up'); setTimeout(() => process.exit(3), 100);`],
      ],
      `while (started[1][1].running) await sleep(20);`,
    );
    expect(run.unexpected).toEqual(['crashy:3']);
    expect(run.lines).toContain('crashy | exited (code 3)');
  });

  it('lines up the prefixes of names known up front', () => {
    const run = runEsm<{ lines: string[] }>(`
      import { Writable } from 'node:stream';
      import { Supervisor } from './scripts/lib/supervisor.mjs';
      let text = '';
      const sup = new Supervisor({ out: new Writable({ write(c, _e, cb) { text += c; cb(); } }), color: false, names: ['baton', 'state-store'] });
      sup.log('baton', 'one');
      sup.log('state-store', 'two');
      console.log(JSON.stringify({ lines: text.trim().split('\\n') }));
    `);
    expect(run.lines).toEqual(['baton       | one', 'state-store | two']);
  });

  it('stops registered resources in their place in the order', () => {
    const run = runEsm<{ order: string[] }>(`
      import { Writable } from 'node:stream';
      import { Supervisor } from './scripts/lib/supervisor.mjs';
      const order = [];
      const sup = new Supervisor({ out: new Writable({ write(_c, _e, cb) { cb(); } }) });
      sup.add('database', async () => { order.push('database'); });
      sup.add('cache', async () => { order.push('cache'); });
      sup.add('broken', async () => { order.push('broken'); throw new Error('boom'); });
      await sup.stopAll();
      let refused = false;
      try { sup.spawn('late', process.execPath, ['-e', '']); } catch { refused = true; }
      console.log(JSON.stringify({ order: [...order, refused ? 'refused late spawn' : 'spawned late'] }));
    `);
    expect(run.order).toEqual(['broken', 'cache', 'database', 'refused late spawn']);
  });
});
