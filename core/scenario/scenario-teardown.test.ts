import { describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { validateScenario } from './load-scenario.js';
import { runScenario } from './scenario-runner.js';

describe('the scenario report after the steps', () => {
  it('says what could not be torn down (here the lab), and the run\'s result stands', async () => {
    const network = new MemoryNetwork();
    const scenario = validateScenario({ lab: 'embedded', agents: { alice: { user: 'alice', transport: 'udp' } }, steps: [{ register: 'alice' }, { expect: { agent: 'alice', registered: true } }] });
    const report = await runScenario(scenario, {
      startLab: async (request) => {
        const lab = await Lab.start({ users: request.users, sockets: network });
        return {
          servers: lab.servers,
          domain: lab.domain,
          snapshot: () => lab.snapshot(),
          stop: async () => {
            await lab.stop();
            throw new Error('its admin port is still held');
          },
        };
      },
      sockets: network,
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers: { t1: 100, t2: 400 },
    });
    expect(report.ok).toBe(true);
    expect(report.teardownProblems).toEqual(['the lab did not stop: its admin port is still held']);
  });

  it('stopped by its host (SIGINT): the step going on fails as interrupted, the rest are not run, its call is hung up and every agent unregistered', async () => {
    const network = new MemoryNetwork();
    let lab: Lab | undefined;
    const bindingsAtStop: string[] = [];
    const scenario = validateScenario({
      lab: 'embedded',
      agents: { alice: { user: 'alice', transport: 'udp' }, bob: { user: 'bob', transport: 'udp', answer: 'auto' } },
      steps: [{ register: 'alice' }, { register: 'bob' }, { call: { from: 'alice', to: 'bob', id: 'c1' } }, { expect: { call: 'c1', state: 'established', within: '3s' } }, { wait: '60s' }, { hangup: { call: 'c1' } }],
    });
    const interrupt = new AbortController();
    const started = Date.now();
    const report = await runScenario(scenario, {
      startLab: async (request) => {
        const started = await Lab.start({ users: request.users, sockets: network });
        lab = started;
        return {
          servers: started.servers,
          domain: started.domain,
          snapshot: () => started.snapshot(),
          stop: async () => {
            bindingsAtStop.push(...started.sip.bindings().map((b) => b.user));
            await started.stop();
          },
        };
      },
      sockets: network,
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers: { t1: 100, t2: 400 },
      onProgress: (step) => {
        if (step.index === 3) setTimeout(() => interrupt.abort('SIGINT'), 50); // in the wait
      },
      signal: interrupt.signal,
    });
    expect(lab).toBeDefined();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(report.ok).toBe(false);
    expect(report.steps.map((s) => [s.ok, s.reason])).toEqual([
      [true, undefined],
      [true, undefined],
      [true, undefined],
      [true, undefined],
      [false, 'interrupted (SIGINT)'],
      [false, 'not run: the run was interrupted'],
    ]);
    expect(report.calls).toMatchObject([{ id: 'c1', status: 200, legs: { caller: { state: 'terminated' }, callee: { state: 'terminated' } } }]);
    expect(bindingsAtStop).toEqual([]);
  });

  it('stopped during a load: the load starts no more calls, its summary is in the report with the calls it left going, and they are hung up', async () => {
    const network = new MemoryNetwork();
    const scenario = validateScenario({
      lab: 'embedded',
      agents: { alice: { user: 'alice', transport: 'udp' }, bob: { user: 'bob', transport: 'udp', answer: 'auto' } },
      steps: [{ register: 'alice' }, { register: 'bob' }, { load: { from: 'alice', to: 'bob', id: 'l1', calls: 1000, rate: 50, parallel: 100, hold: '20s' } }],
    });
    const interrupt = new AbortController();
    const intervals: number[] = [];
    let lab: Lab | undefined;
    const runs = runScenario(scenario, {
      startLab: async (request) => {
        const started = await Lab.start({ users: request.users, sockets: network });
        lab = started;
        return { servers: started.servers, domain: started.domain, snapshot: () => started.snapshot(), stop: () => started.stop() };
      },
      sockets: network,
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers: { t1: 100, t2: 400 },
      onProgress: (step) => {
        if (step.index === 1) setTimeout(() => interrupt.abort('SIGINT'), 1000); // a second into the load
      },
      onLoadInterval: (_load, interval) => intervals.push(interval.totalStarted),
      signal: interrupt.signal,
    });
    const report = await runs;
    expect(report.steps[2]).toMatchObject({ ok: false, reason: 'interrupted (SIGINT)' });
    const load = report.loads?.[0];
    expect(load).toBeDefined();
    expect(load!.attempted).toBeGreaterThan(10);
    expect(load!.attempted).toBeLessThan(200);
    expect(load!.unfinished).toBeGreaterThan(0);
    // nothing goes on after the run: the load's seconds are no longer counted (it went on starting calls before)
    const counted = intervals.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(intervals).toHaveLength(counted);
    expect(lab).toBeDefined();
  });
});
