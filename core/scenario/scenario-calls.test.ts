import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryLabStarter } from '../../test/support/memory-lab.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { defaultMediaProvider } from '../phone/default-media.js';
import { loadScenarioFile } from './load-scenario.js';
import { runScenario } from './scenario-runner.js';
import type { ScenarioReport } from './scenario-report.js';

/** The everyday-call scenarios of issue 22 (test/scenarios): SIP through the in-memory network, real RTP. */
async function run(file: string): Promise<ScenarioReport> {
  const network = new MemoryNetwork();
  const scenario = loadScenarioFile(path.resolve(import.meta.dirname, '../../test/scenarios', file));
  return runScenario(scenario, {
    startLab: memoryLabStarter(network),
    sockets: network,
    createSessionDescriptionHandlerFactory: defaultMediaProvider,
    timers: { t1: 100, t2: 400 },
  });
}

const failures = (report: ScenarioReport): string[] => report.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.reason ?? ''}`);

describe('everyday call scenarios', () => {
  it('call-waiting.yaml: a second call is answered with the first held, swapped, and resumed after the first ends', async () => {
    const report = await run('call-waiting.yaml');
    expect(failures(report)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('transfer-blind.yaml: REFER to carol; alice and carol end up talking, bob is out', async () => {
    const report = await run('transfer-blind.yaml');
    expect(failures(report)).toEqual([]);
  });

  it('transfer-attended.yaml: REFER with Replaces after a consultation; carol talks with alice in place of bob', async () => {
    const report = await run('transfer-attended.yaml');
    expect(failures(report)).toEqual([]);
  });

  it('dnd-forward.yaml: do not disturb answers 603, forwarding answers 302 and the caller reaches the target, which answers by itself after a delay', async () => {
    const report = await run('dnd-forward.yaml');
    expect(failures(report)).toEqual([]);
  });

  it('forward-by-call.yaml: bob calls carol for alice and hands alice over by REFER with Replaces; RTP flows between alice and carol', async () => {
    const report = await run('forward-by-call.yaml');
    expect(failures(report)).toEqual([]);
  });

  it('media-timeout-held.yaml: an agent\'s media_timeout is its own (a held limit under the RTCP interval ends a hold); the report says why', async () => {
    const report = await run('media-timeout-held.yaml');
    expect(failures(report)).toEqual([]);
    const legs = report.calls.find((c) => c.id === 'c1')!.legs;
    expect(legs.caller).toMatchObject({ endedBy: 'network', endCause: { kind: 'no-media', seconds: 2 } });
    expect(legs.callee).toMatchObject({ endedBy: 'remote' });
  });
});
