import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { PhoneApi } from '../api/phone-api.js';
import type { PhoneEvent } from '../api/phone-types.js';
import { checkAccountConfig } from './account-config-check.js';
import { AccountStore, settingsPath } from './account-store.js';
import { defaultMediaProvider } from './default-media.js';
import { dispatchPhoneCommand } from './phone-api-dispatcher.js';
import { Phone } from './phone.js';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { until } from '../../test/support/until.js';


describe('settings stored by the core (settings(), updateAccount(), removeAccount())', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  function dataDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-settings-'));
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it('applies an account change by re-creating it (re-registered, transport switched), stores it with the password kept secret, and loads it at the next start', async () => {
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const dir = dataDir();
    const file = settingsPath(dir);
    const make = (): Phone => {
      const phone = new Phone({ accounts: [], createSessionDescriptionHandlerFactory: defaultMediaProvider, sockets: network, timers: { t1: 100, t2: 400 }, settingsFile: file });
      cleanup.push(() => phone.shutdown());
      return phone;
    };
    const phone = make();
    const events: PhoneEvent[] = [];
    phone.subscribe((e) => events.push(e));
    expect(await phone.settings()).toEqual({ accounts: [], storage: 'file' });

    const saved = await dispatchPhoneCommand(phone, 'updateAccount', [{ id: 'carol', user: 'carol', displayName: 'Carol', server: lab.servers.udp, transport: 'udp', domain: lab.domain, password: 's3cret', anonymity: { anonymous: true, mode: 'header', level: 'id' } }]);
    expect(saved).toMatchObject({ id: 'carol', password: '********' });
    await until(() => events.some((e) => e.type === 'registration' && e.registration.accountId === 'carol' && e.registration.state === 'registered'));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ version: 1, accounts: [{ id: 'carol', password: 's3cret' }] });
    expect((await phone.settings()).accounts[0]).toMatchObject({ password: '********', anonymity: { anonymous: true, mode: 'header' } });

    // switch to TCP; the masked password sent back keeps the stored one
    const mark = events.length;
    await phone.updateAccount({ id: 'carol', user: 'carol', server: lab.servers.tcp!, transport: 'tcp', domain: lab.domain, password: '********' });
    const registered = await until(() => events.slice(mark).find((e): e is Extract<PhoneEvent, { type: 'registration' }> => e.type === 'registration' && e.registration.state === 'registered'));
    expect(registered.registration.contact).toMatch(/transport=tcp/i);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).accounts).toEqual([{ id: 'carol', user: 'carol', server: lab.servers.tcp, transport: 'tcp', domain: lab.domain, password: 's3cret' }]);
    await phone.shutdown();

    // the next start loads it; an account the host names itself wins over the stored one of the same id
    const next = make();
    expect((await next.settings()).accounts.map((a) => `${a.id}/${a.transport}`)).toEqual(['carol/tcp']);
    const hosted = new Phone({ accounts: [{ id: 'carol', user: 'carol', server: lab.servers.udp!, transport: 'udp' }], createSessionDescriptionHandlerFactory: defaultMediaProvider, sockets: network, settingsFile: file });
    cleanup.push(() => hosted.shutdown());
    expect((await hosted.settings()).accounts.map((a) => `${a.id}/${a.transport}`)).toEqual(['carol/udp']);

    await next.removeAccount('carol');
    expect((await next.settings()).accounts).toEqual([]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).accounts).toEqual([]);
  });

  it('refuses changes to an account in a call, and bad configurations before touching the old account', async () => {
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 }, sockets: network });
    cleanup.push(() => lab.stop());
    const account = (user: string) => ({ id: user, user, server: lab.servers.udp!, transport: 'udp' as const, domain: lab.domain, answer: { kind: 'auto' as const } });
    const alice = new Phone({ accounts: [account('alice')], createSessionDescriptionHandlerFactory: defaultMediaProvider, sockets: network, timers: { t1: 100, t2: 400 } });
    const bob = new Phone({ accounts: [account('bob')], createSessionDescriptionHandlerFactory: defaultMediaProvider, sockets: network, timers: { t1: 100, t2: 400 } });
    cleanup.push(() => alice.shutdown(), () => bob.shutdown());
    await alice.register();
    await bob.register();
    expect((await alice.settings()).storage).toBe('memory');
    const call = await alice.call({ target: 'bob' });
    await expect(alice.updateAccount({ ...account('alice'), displayName: 'A' })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(alice.removeAccount('alice')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await alice.hangup(call.id).catch(() => undefined);
    for (let i = 0; i < 250 && (await alice.snapshot()).calls.length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await alice.snapshot()).calls).toEqual([]);
    await expect(alice.updateAccount({ ...account('alice'), server: 'sip:' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await alice.snapshot()).registrations[0]).toMatchObject({ accountId: 'alice', state: 'registered' });
    await expect(alice.removeAccount('nobody')).rejects.toMatchObject({ code: 'UNKNOWN_ACCOUNT' });
  });

  it('checks every field that reaches a SIP header (no header injection through the settings view)', () => {
    const base = { id: 'a', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp' };
    expect(checkAccountConfig({ ...base, extra: 'dropped', displayName: 'Alice 山田' })).toEqual({ ...base, displayName: 'Alice 山田' });
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...base, displayName: 'Alice"\r\nX-Evil: 1' }, /displayName/],
      [{ ...base, user: 'alice\r\nVia: x' }, /user/],
      [{ ...base, user: 'a b' }, /user/],
      [{ ...base, password: 'p\nq' }, /password/],
      [{ ...base, transport: 'sctp' }, /transport/],
      [{ ...base, server: 'http://x' }, /server/],
      [{ ...base, server: 'sip:host:99999' }, /server/],
      [{ ...base, domain: 'a b' }, /domain/],
      [{ ...base, registerExpires: 5 }, /registerExpires/],
      [{ ...base, anonymity: { anonymous: 'yes', mode: 'prefix' } }, /anonymity/],
      [{ ...base, address: { mode: 'temporary', source: 'configured' } }, /prefix/],
      [{ ...base, address: { mode: 'temporary', source: 'router-advertisement' } }, /interface/],
      [{ ...base, address: { mode: 'temporary', source: 'nowhere' } }, /source/],
      [{ ...base, dialRules: [{ prefix: 'abc', action: 'withhold', label: 'x' }] }, /prefix/],
      [{ ...base, id: '' }, /id/],
      [{ ...base, answer: { kind: 'reject' } }, /^answer\.status must be 300-699$/],
      [{ ...base, answer: { kind: 'auto', delayMs: null } }, /^answer\.delayMs/],
      [{ ...base, dialRules: [{ prefix: '1', action: 'hide', label: 'x' }] }, /^dialRules\[0\]\.action must be one of withhold, present$/],
      [null as unknown as Record<string, unknown>, /^account must be an object$/],
    ];
    for (const [value, message] of bad) expect(() => checkAccountConfig(value), JSON.stringify(value)).toThrow(message);
    expect(checkAccountConfig({ ...base, address: { mode: 'temporary', source: 'configured', prefix: '2001:db8:1:2::/64', fallback: 'fixed' } }).address).toEqual({ mode: 'temporary', source: 'configured', prefix: '2001:db8:1:2::/64', fallback: 'fixed' });
  });

  it('reports a damaged settings file instead of failing to start, keeping the entries that pass', () => {
    const dir = dataDir();
    const file = settingsPath(dir);
    fs.writeFileSync(file, '{ not json');
    expect(new AccountStore(file).load()).toMatchObject({ accounts: [], problems: [expect.stringMatching(/not JSON/)] });
    fs.writeFileSync(file, JSON.stringify({ version: 1, accounts: [{ id: 'ok', user: 'ok', server: 'sip:127.0.0.1', transport: 'udp' }, { id: 'bad', user: 'x\r\n', server: 'sip:127.0.0.1', transport: 'udp' }] }));
    const phone = new Phone({ accounts: [], createSessionDescriptionHandlerFactory: defaultMediaProvider, sockets: network, settingsFile: file });
    cleanup.push(() => phone.shutdown());
    expect(phone.settingsProblems).toEqual([expect.stringMatching(/account 2 dropped: user/)]);
    return expect(phone.settings()).resolves.toMatchObject({ accounts: [{ id: 'ok' }] });
  });

  it('carries the per-call anonymity choice through the argument-checking dispatcher', async () => {
    const seen: unknown[] = [];
    const api = { call: async (request: unknown) => void seen.push(request) } as unknown as PhoneApi;
    await dispatchPhoneCommand(api, 'call', [{ target: 'bob', anonymity: 'header', anonymityLevel: 'full', accountId: 'a', junk: 1 }]);
    await dispatchPhoneCommand(api, 'call', [{ target: '184bob' }]);
    expect(seen).toEqual([{ target: 'bob', anonymity: 'header', anonymityLevel: 'full', accountId: 'a' }, { target: '184bob' }]);
    await expect(dispatchPhoneCommand(api, 'call', [{ target: 'bob', anonymity: 'loud' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(api, 'call', [{ target: 'bob', anonymityLevel: 'max' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dispatchPhoneCommand(api, 'updateAccount', [{ id: 'x' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // an absent optional argument arrives as null over JSON (the WebSocket client sends [id, digits, undefined])
    const dtmf: unknown[] = [];
    const withDtmf = { sendDtmf: async (...args: unknown[]) => void dtmf.push(args) } as unknown as PhoneApi;
    await dispatchPhoneCommand(withDtmf, 'sendDtmf', JSON.parse(JSON.stringify(['c1', '5', undefined])) as unknown[]);
    expect(dtmf).toEqual([['c1', '5', undefined]]);
    await expect(dispatchPhoneCommand(api, 'removeAccount', [''])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
