import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { PhoneError } from '../api/phone-error.js';
import type { AccountConfig } from '../api/phone-types.js';
import { until } from '../../test/support/until.js';
import { checkAccountConfig } from './account-config-check.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';

const timers = { t1: 100, t2: 400 };

/** The account's registration state once it is registered (polled; bounded). */
async function registered(phone: Phone): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if ((await phone.snapshot()).registrations[0]?.state === 'registered') return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('not registered');
}
const room = '100-1101-1201';

/** A household terminal made in the settings (issue 20): the account names its room's gateway and room; the phone allocates. */
describe('an account saved as a household terminal (seed 001 Fig. 8)', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function building(): Promise<Lab> {
    const lab = await Lab.start({ timers, household: { rooms: { [room]: 4, '100-1101-1202': 2 }, pool: { first: '127.77.9.1', last: '127.77.9.40' } } });
    cleanup.push(() => lab.stop());
    return lab;
  }

  function phone(settingsFile?: string): Phone {
    const made = new Phone({ accounts: [], createSessionDescriptionHandlerFactory: defaultMediaProvider, timers, ...(settingsFile ? { settingsFile } : {}) });
    cleanup.push(() => made.shutdown());
    return made;
  }

  const gatewayOf = (lab: Lab, r = room): string => `${lab.household!.gateway(r).dhcpEndpoint.address}:${lab.household!.gateway(r).dhcpEndpoint.port}`;
  // what the settings view sends: no user or server, the gateway gives them
  const terminalAccount = (lab: Lab, r = room): AccountConfig => checkAccountConfig({ id: 'home', user: '', server: '', transport: 'udp', household: { gateway: gatewayOf(lab, r), room: r } });

  it('asks the gateway for address and number, registers the number from that address, shows it, and gives it back when removed', async () => {
    const lab = await building();
    const p = phone();
    const saved = await p.updateAccount(terminalAccount(lab));
    expect(saved).toMatchObject({ user: `${room}-1`, localAddress: '127.77.9.2', domain: 'household.lab', household: { room } });
    await registered(p);
    const snapshot = await p.snapshot();
    expect(snapshot.household).toEqual([{ accountId: 'home', room, number: `${room}-1`, address: '127.77.9.2', gateway: `127.77.9.1:${lab.household!.gateway(room).sipEndpoint.port}` }]);
    expect(lab.household!.gateway(room).snapshot().registrar.map((b) => b.user)).toEqual([`${room}-1`]);

    // saving it again (another display name) keeps its allocation: the same number, no second address taken
    await p.updateAccount({ ...terminalAccount(lab), displayName: 'Kitchen' });
    expect((await p.snapshot()).household![0]!.number).toBe(`${room}-1`);
    expect(lab.household!.gateway(room).snapshot().terminals).toHaveLength(1);

    // Fig. 8 steps 82, 84-85: removed, it sends the deletion request
    await p.removeAccount('home');
    await until(() => lab.household!.gateway(room).snapshot().terminals.length === 0);
    expect((await p.snapshot()).household).toBeUndefined();
  });

  it('moved to another room it takes that room\'s number and gives the first one back', async () => {
    const lab = await building();
    const p = phone();
    await p.updateAccount(terminalAccount(lab));
    const moved = await p.updateAccount(terminalAccount(lab, '100-1101-1202'));
    expect(moved.user).toBe('100-1101-1202-1');
    await until(() => lab.household!.gateway(room).snapshot().terminals.length === 0);
  });

  it('refuses a gateway of another room, and one that allots nothing, with a typed error; the account is not added', async () => {
    const lab = await building();
    const p = phone();
    const wrongRoom = { ...terminalAccount(lab), household: { gateway: gatewayOf(lab, '100-1101-1202'), room } };
    await expect(p.updateAccount(wrongRoom)).rejects.toSatisfy((e) => e instanceof PhoneError && e.code === 'INVALID_ARGUMENT' && e.message.includes('serves room 100-1101-1202, not 100-1101-1201'));
    // the refused allocation went back at once
    await until(() => lab.household!.gateway('100-1101-1202').snapshot().terminals.length === 0);
    const silent = { ...terminalAccount(lab), household: { gateway: '127.0.0.1:9', room } };
    await expect(p.updateAccount(silent)).rejects.toSatisfy((e) => e instanceof PhoneError && e.code === 'LEASE_FAILED' && e.message.includes('127.0.0.1:9'));
    expect((await p.snapshot()).accounts).toEqual([]);
  });

  it('is stored with its household settings and allocates again at the next start', async () => {
    const lab = await building();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-household-settings-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'settings.json');
    const first = phone(file);
    await first.updateAccount(terminalAccount(lab));
    await first.shutdown();
    await until(() => lab.household!.gateway(room).snapshot().terminals.length === 0);
    const again = phone(file);
    await registered(again);
    expect((await again.snapshot()).household![0]).toMatchObject({ number: `${room}-1`, address: '127.77.9.2' });
  });

  it('checks the household settings with clear errors', () => {
    const base = { id: 'home', user: '', server: '', transport: 'udp' };
    expect(() => checkAccountConfig(base)).toThrow('user must be a SIP user name');
    expect(() => checkAccountConfig({ ...base, household: { gateway: '127.77.0.1:6767', room: '100-1101' } })).toThrow('household.room must be a room number area-building-room such as 100-1101-1201');
    expect(() => checkAccountConfig({ ...base, household: { gateway: '127.77.0.1:6767', room: `${room}-2` } })).toThrow("household.room must be the room's number without the terminal");
    expect(() => checkAccountConfig({ ...base, household: { gateway: 'gateway at home', room } })).toThrow('household.gateway must be the room gateway as ADDRESS:PORT');
    expect(() => checkAccountConfig({ ...base, household: { gateway: '127.77.0.1:70000', room } })).toThrow('household.gateway must be an IPv4 address and a port 1-65535');
    expect(() => checkAccountConfig({ ...base, transport: 'tcp', household: { gateway: 'eth0', room } })).toThrow('transport must be udp for a household terminal');
    expect(checkAccountConfig({ ...base, household: { gateway: 'eth0', room } }).household).toEqual({ gateway: 'eth0', room });
  });
});
