import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryLabStarter } from '../../test/support/memory-lab.js';
import { establishedCallScenario } from '../../test/support/lab-scenario-text.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { mediaWithoutRecentAudio } from '../phone/default-media.js';
import type { MediaFactoryProvider } from '../phone/media-factory.js';
import { checksAudio } from './checks-audio.js';
import { loadScenarioFile, parseScenario } from './load-scenario.js';
import { runScenario } from './scenario-runner.js';

const scenarios = path.resolve(import.meta.dirname, '../../test/scenarios');

describe('whether a run keeps received audio (issue 23: 100 calls at once ≤ 150 MB)', () => {
  it('keeps it for a scenario that checks a tone', () => {
    expect(checksAudio(loadScenarioFile(path.join(scenarios, 'media-tone-dtmf.yaml')))).toBe(true);
  });

  it('keeps none for one that only counts calls or reads RTP figures', () => {
    const load = parseScenario(
      ['agents:', '  a: { user: alice, server: "sip:127.0.0.1:5060" }', '  b: { user: bob, server: "sip:127.0.0.1:5060", answer: auto }', 'steps:', '  - load: { from: a, to: b, id: l1, rate: 10, calls: 10 }', '  - expect: { load: { id: l1, max_failed: 0 } }', ''].join('\n'),
    );
    expect(checksAudio(load)).toBe(false);
  });

  it('agrees with every scenario file of the repository on which ones name `tone_hz`', () => {
    const files = fs.readdirSync(scenarios).filter((file) => file.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const text = fs.readFileSync(path.join(scenarios, file), 'utf8');
      let scenario;
      try {
        scenario = loadScenarioFile(path.join(scenarios, file));
      } catch {
        continue; // a scenario that is invalid on purpose
      }
      expect(checksAudio(scenario), file).toBe(/^\s*-\s*expect:.*\baudio:/m.test(text));
    }
  });
});

describe('the runner chooses the media itself unless told (every host alike)', () => {
  /** A tone played and checked at the other end, through an in-memory lab: the step's verdict. */
  async function toneHeard(media?: MediaFactoryProvider): Promise<{ ok: boolean; reason?: string }> {
    const network = new MemoryNetwork();
    const scenario = parseScenario(
      establishedCallScenario(['play: { call: c1, tone: 1000 }', 'expect: { call: c1, agent: bob, audio: { tone_hz: 1000 }, within: 3s }', 'hangup: { call: c1 }'], ['name: a tone checked', 'timeout: 30s']),
    );
    const report = await runScenario(scenario, {
      startLab: memoryLabStarter(network),
      sockets: network,
      timers: { t1: 100, t2: 400 },
      ...(media ? { createSessionDescriptionHandlerFactory: media } : {}),
    });
    const step = report.steps.find((s) => s.step.includes('tone_hz'))!;
    return { ok: step.ok, ...(step.reason !== undefined ? { reason: step.reason } : {}) };
  }

  it('keeps received audio for a scenario that checks a tone, where media keeping none cannot hear it', async () => {
    expect(await toneHeard()).toEqual({ ok: true });
    expect((await toneHeard(mediaWithoutRecentAudio)).ok).toBe(false);
  }, 30_000);
});
