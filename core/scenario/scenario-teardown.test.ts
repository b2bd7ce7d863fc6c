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
});
