import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { until } from '../../test/support/until.js';
import { veilphone } from '../../test/support/veilphone-cli.js';
import type { PhoneEvent } from '../api/phone-types.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';

const timers = { t1: 100, t2: 400 };

/** SPEC B through the CLI: a run killed mid-call, then started again (real processes, so a real lab on loopback). */
describe('one-time addresses after a crash (seed 000 Fig. 28, SPEC B)', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  }, 30_000); // a phone whose peer was killed sends its BYE into the void

  it('after kill -9 mid-call, the next start erases the bindings the dead process left (ownership journal)', async () => {
    const home = await Lab.start({ timers });
    cleanup.push(() => home.stop());
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-addr-crash-'));
    cleanup.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: home.servers.udp!, transport: 'udp', domain: home.domain, answer: { kind: 'auto' } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      timers,
    });
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    cleanup.push(() => bob.shutdown());
    await bob.register();
    const scenario = (steps: string): string => {
      const file = path.join(dataDir, `s${Math.random().toString(36).slice(2)}.yaml`);
      fs.writeFileSync(file, `timeout: 1m\nserver: ${home.servers.udp}\ndomain: "${home.domain}"\nagents:\n  alice: { user: alice, transport: udp, address: { mode: temporary } }\nsteps:\n${steps}`);
      return file;
    };
    const crashing = veilphone(['run', scenario('  - register: alice\n  - call: { from: alice, to: bob, id: c1 }\n  - expect: { call: c1, state: established }\n  - wait: 50s\n')], { dataDir });
    cleanup.push(() => void crashing.process.kill('SIGKILL'));
    await crashing.waitFor(/ok +3 expect/, 20_000);
    // bob has the ACK: the call is up on both sides
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.direction === 'incoming' && e.call.state === 'established'));
    crashing.process.kill('SIGKILL');
    await crashing.exited;
    const stale = home.sip.snapshot().bindings.filter((b) => b.user === 'alice').map((b) => b.contact);
    expect(stale).toHaveLength(2); // the receiving address and the call's sending address

    // helper 73: the clean-up waited for the first REGISTER or call; a run that only waits does it too
    const restart = veilphone(['run', scenario('  - wait: 3s\n')], { dataDir });
    expect(await restart.exitCode(30_000), restart.stdout + restart.stderr).toBe(0);
    expect(home.sip.snapshot().bindings.filter((b) => b.user === 'alice')).toEqual([]);
    const journal = fs.readFileSync(path.join(dataDir, 'agents', 'alice', 'ownership.jsonl'), 'utf8');
    const owned = new Set<number>();
    for (const line of journal.trim().split('\n').map((l) => JSON.parse(l) as { op: string; id?: number })) {
      if (line.op === 'own') owned.add(line.id!);
      if (line.op === 'release') owned.delete(line.id!);
    }
    expect([...owned]).toEqual([]);
  });
});
