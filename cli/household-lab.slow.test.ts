import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocateHouseholdTerminal, type HouseholdTerminal } from '../core/phone/household-phone.js';
import type { Child } from '../test/support/child.js';
import { veilphone } from '../test/support/veilphone-cli.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-household-lab-'));
const children: Child[] = [];
const terminals: HouseholdTerminal[] = [];
afterAll(async () => {
  await Promise.allSettled(terminals.map((t) => t.release()));
  await Promise.all(children.map((c) => c.stop()));
  fs.rmSync(scratch, { recursive: true, force: true });
});

const room = '100-1101-1201';
interface HouseholdView {
  rooms: Record<string, { dhcp?: string; addresses: Array<{ address: string; number: string; state: string }> }>;
}

async function startLab(dataDir: string): Promise<{ child: Child; admin: string }> {
  const child = veilphone(['lab', '--udp', '0', '--tcp', '0', '--ws', '0', '--json', '--admin', '0', '--household', `${room}=3`], { dataDir });
  children.push(child);
  const ready = JSON.parse((await child.waitFor(/^\{"event":"ready".*\}$/m))[0]) as { admin: string };
  return { child, admin: ready.admin };
}

async function household(admin: string): Promise<HouseholdView> {
  const url = new URL(admin);
  const response = await fetch(new URL('/household', url), { headers: { authorization: `Bearer ${url.searchParams.get('token')}` } });
  return (await response.json()) as HouseholdView;
}

/** `veilphone lab --household`: seed 001's building in the lab, its database in the data dir, seen in lab-admin. */
describe('veilphone lab --household (seed 001 Fig. 5, issue 20)', () => {
  it('shows each room\'s addresses in lab-admin and keeps what terminals hold across a restart', async () => {
    const dataDir = path.join(scratch, 'data');
    const first = await startLab(dataDir);
    const before = await household(first.admin);
    const [address, port] = before.rooms[room]!.dhcp!.split(':');
    const terminal = await allocateHouseholdTerminal({ gateway: { address: address!, port: Number(port) } });
    terminals.push(terminal);
    expect(terminal.household).toMatchObject({ number: `${room}-1`, address: '127.77.0.2' });
    // Fig. 12 step 122: the gateway's report reaches the management server (bounded poll of the admin view)
    for (let i = 0; i < 200 && (await household(first.admin)).rooms[room]!.addresses[1]!.state !== 'terminal'; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    const view = veilphone(['lab-admin', first.admin, 'household'], { dataDir });
    expect(await view.exitCode(30_000), view.stderr).toBe(0);
    expect(view.stdout).toMatch(/^household building: pool 127\.77\.0\.1-127\.77\.3\.254, \d+ address\(es\) no room has$/m);
    expect(view.stdout).toMatch(new RegExp(`^${room}\\s+127\\.77\\.0\\.1\\s+${room}-0\\s+gateway$`, 'm'));
    expect(view.stdout).toMatch(new RegExp(`^${room}\\s+127\\.77\\.0\\.2\\s+${room}-1\\s+terminal$`, 'm'));
    expect(view.stdout).toMatch(new RegExp(`^${room}\\s+127\\.77\\.0\\.3\\s+${room}-2\\s+free$`, 'm'));
    await first.child.stop();
    expect(fs.statSync(path.join(dataDir, 'household.json')).mode & 0o777).toBe(0o600);

    const second = await startLab(dataDir);
    const after = await household(second.admin);
    expect(after.rooms[room]!.addresses.map((a) => [a.address, a.state])).toEqual([
      ['127.77.0.1', 'gateway'],
      ['127.77.0.2', 'terminal'],
      ['127.77.0.3', 'free'],
    ]);
  }, 120_000);

  it('veilphone serve --household ADDRESS:PORT runs the phone as a terminal of that room; stopping it gives the address back', async () => {
    const lab = await startLab(path.join(scratch, 'serve-lab'));
    const dhcp = (await household(lab.admin)).rooms[room]!.dhcp!;
    const serve = veilphone(['serve', '--household', dhcp, '--json', '--port', '0']);
    children.push(serve);
    const ready = JSON.parse((await serve.waitFor(/^\{"event":"ready".*\}$/m, 120_000))[0]) as { sip: string; household: { number: string; address: string; gateway: string } };
    expect(ready.household).toMatchObject({ room, number: `${room}-1`, address: '127.77.0.2' });
    expect(ready.sip).toBe(`sip:${ready.household.gateway};transport=udp`);
    const url = new URL(lab.admin);
    const bindings = async (): Promise<string> => JSON.stringify(await (await fetch(new URL('/snapshot', url), { headers: { authorization: `Bearer ${url.searchParams.get('token')}` } })).json());
    for (let i = 0; i < 200 && !(await bindings()).includes(`"user":"${room}-1"`); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await bindings()).toContain(`"user":"${room}-1"`); // registered at the room gateway from its address
    await serve.stop(10_000);
    for (let i = 0; i < 200 && (await household(lab.admin)).rooms[room]!.addresses[1]!.state !== 'free'; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect((await household(lab.admin)).rooms[room]!.addresses[1]).toMatchObject({ address: '127.77.0.2', state: 'free' });
  }, 180_000);
});
