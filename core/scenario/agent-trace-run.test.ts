import { describe, expect, it } from 'vitest';
import { memoryLabStarter } from '../../test/support/memory-lab.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { defaultMediaProvider } from '../phone/default-media.js';
import { rawCallId } from '../phone/trace-router.js';
import { validateScenario } from './load-scenario.js';
import { runScenario } from './scenario-runner.js';

/** A run's agent traces stay bounded: the oldest messages go, the report says how many, and the newest call is whole. */
describe('agent traces of a run', () => {
  it('keep the newest messages up to the limit and count the rest; a check that reads traces refuses once they dropped any', async () => {
    const network = new MemoryNetwork();
    const calls = Array.from({ length: 18 }, (_, i) => `c${i + 1}`);
    const scenario = validateScenario(
      {
        agents: { alice: { user: 'alice', transport: 'udp' }, bob: { user: 'bob', transport: 'udp', answer: 'auto' } },
        lab: 'embedded',
        trace_limit: 100,
        steps: [
          { register: 'alice' },
          { register: 'bob' },
          ...calls.flatMap((id) => [{ call: { from: 'alice', to: 'bob', id } }, { expect: { call: id, state: 'established' } }, { hangup: { call: id } }, { expect: { call: id, state: 'terminated' } }]),
          // a check on traces that dropped messages is refused, not judged on what is left
          { expect: { call: 'c18', agent: 'bob', caller_hidden: true } },
        ],
      },
      'trace-limit',
    );
    const report = await runScenario(scenario, {
      startLab: memoryLabStarter(network),
      sockets: network,
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers: { t1: 100, t2: 400 },
    });
    const failed = report.steps.filter((s) => !s.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatch(/^cannot check caller_hidden: alice's trace no longer holds its \d+ oldest messages/);
    for (const name of ['alice', 'bob']) {
      const agent = report.agents[name]!;
      expect(agent.trace.length).toBeLessThanOrEqual(100);
      expect(agent.traceDropped).toBeGreaterThan(0);
    }
    // the last call's INVITE is still in bob's trace
    const last = report.calls.find((c) => c.id === 'c18')!;
    expect([...report.agents.bob!.trace].some((e) => e.raw.startsWith('INVITE ') && rawCallId(e.raw) === last.legs.callee!.sipCallId)).toBe(true);
  });

  it('takes its limit from the scenario\'s trace_limit, which the schema bounds', () => {
    const spec = { agents: { alice: { user: 'alice', transport: 'udp' } }, lab: 'embedded', steps: [{ register: 'alice' }] };
    expect(validateScenario({ ...spec, trace_limit: 500 }, 'limit').traceLimit).toBe(500);
    expect(validateScenario(spec, 'no limit').traceLimit).toBeUndefined();
    expect(() => validateScenario({ ...spec, trace_limit: 10 }, 'tiny')).toThrow(/trace_limit/);
  });

  it('an agent\'s session_expires: its identified INVITEs ask for that session timer, its anonymous ones for none', async () => {
    const network = new MemoryNetwork();
    const scenario = validateScenario(
      {
        agents: { alice: { user: 'alice', transport: 'udp', session_expires: 1800 }, bob: { user: 'bob', transport: 'udp', answer: 'auto' } },
        lab: 'embedded',
        steps: [
          { register: 'alice' },
          { register: 'bob' },
          { call: { from: 'alice', to: 'bob', id: 'c1' } },
          { expect: { call: 'c1', state: 'established' } },
          { hangup: { call: 'c1' } },
          { call: { from: 'alice', to: 'bob', id: 'c2', anonymity: 'header' } },
          { expect: { call: 'c2', state: 'established' } },
          { hangup: { call: 'c2' } },
        ],
      },
      'session-expires',
    );
    const report = await runScenario(scenario, { startLab: memoryLabStarter(network), sockets: network, createSessionDescriptionHandlerFactory: defaultMediaProvider, timers: { t1: 100, t2: 400 } });
    expect(report.steps.filter((s) => !s.ok)).toEqual([]);
    const inviteOf = (id: string): string => [...report.agents.bob!.trace].find((e) => e.raw.startsWith('INVITE ') && rawCallId(e.raw) === report.calls.find((c) => c.id === id)!.legs.callee!.sipCallId)!.raw;
    expect(inviteOf('c1')).toMatch(/^Session-Expires: 1800\r?$/m);
    expect(inviteOf('c2')).not.toMatch(/^Session-Expires:/im);
    expect(() => validateScenario({ ...scenario, agents: { alice: { user: 'alice', transport: 'udp', session_expires: -1 } }, steps: [] }, 'bad')).toThrow(/session_expires/);
  });
});
