import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { parseDigestFields } from '../../lab/sip-server/digest-auth.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import type { CallSnapshot, PhoneEvent } from '../api/phone-types.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { callLogPath, prepareDataDir } from './data-dir.js';
import { Phone } from './phone.js';

const timers = { t1: 100, t2: 400 };
const passwords: Record<string, string> = { alice: 'hunter2', bob: 'correct horse' };
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** Every digest credential in a set of traced messages: its fields, and the method of the request carrying it. */
function credentials(messages: readonly { raw: string }[]): Array<{ method: string; fields: Record<string, string> }> {
  const out: Array<{ method: string; fields: Record<string, string> }> = [];
  for (const { raw } of messages) {
    const method = /^([A-Z]+) /.exec(raw)?.[1];
    if (!method) continue;
    for (const match of raw.matchAll(/^(?:proxy-)?authorization[ \t]*:[ \t]*digest[ \t]+(.*)$/gim)) out.push({ method, fields: parseDigestFields(match[1]!) });
  }
  return out;
}

/** The `response` a client with its password computed for these fields (RFC 2617 §3.2.2.1): what an attacker would test guesses against. */
function realResponse({ method, fields }: { method: string; fields: Record<string, string> }): string {
  const ha1 = md5(`${fields.username}:${fields.realm}:${passwords[fields.username!]}`);
  const ha2 = md5(`${method}:${fields.uri}`);
  return md5(`${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:${fields.qop}:${ha2}`);
}

/** Issue 17 item 6: a digest-authenticated phone leaves nothing to attack offline, wherever its trace goes. */
describe('digest credentials in traces', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  }, 30_000);

  it('REGISTER and the challenged INVITE go out whole, but every trace, the call log files and its exports show response="<redacted>"', async () => {
    const umask = process.umask(0o022);
    cleanup.push(() => void process.umask(umask));
    const labTrace: SipTapEntry[] = [];
    const lab = await Lab.start({ users: { alice: { password: passwords.alice! }, bob: { password: passwords.bob! } }, auth: true, timers, tap: (entry) => labTrace.push(entry) });
    cleanup.push(() => lab.stop());
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-trace-secrets-'));
    cleanup.push(() => fs.rmSync(root, { recursive: true, force: true }));
    const dataDir = path.join(root, 'data');
    prepareDataDir(dataDir);

    const phoneTrace: SipTapEntry[] = [];
    const events: PhoneEvent[] = [];
    const alice = new Phone({
      accounts: [{ id: 'alice', user: 'alice', password: passwords.alice!, server: lab.servers.udp!, transport: 'udp', domain: lab.domain }],
      callLogPath: callLogPath(dataDir),
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      onTrace: (_account, entry) => phoneTrace.push(entry),
      timers,
    });
    alice.subscribe((e) => events.push(e));
    cleanup.push(() => alice.shutdown());
    const bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', password: passwords.bob!, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' } }],
      createSessionDescriptionHandlerFactory: () => staticSdhFactory(),
      timers,
    });
    cleanup.push(() => bob.shutdown());
    await alice.register();
    await bob.register();
    const last = (id: string): CallSnapshot | undefined => events.filter((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.id === id).at(-1)?.call;
    const call = await alice.call({ target: 'bob' });
    await until(() => last(call.id)?.state === 'established'); // the lab checked the real response of the INVITE
    await alice.hangup(call.id);
    await until(() => last(call.id)?.state === 'terminated');

    const detail = (await alice.callDetail(call.id))!;
    const seen = credentials([...phoneTrace, ...labTrace, ...detail.messages]);
    expect(seen.map((c) => c.method)).toEqual(expect.arrayContaining(['REGISTER', 'INVITE']));
    expect(credentials(detail.messages).map((c) => c.method)).toContain('INVITE'); // the Proxy-Authorization of the call
    for (const credential of seen) {
      expect(credential.fields).toMatchObject({ username: expect.stringMatching(/^(alice|bob)$/), realm: 'veilphone.lab', response: '<redacted>', qop: 'auth' });
      expect(credential.fields.nonce).toMatch(/^[0-9a-f]{32}$/); // what support staff need stays
    }
    const real = [...new Set(seen.map(realResponse))];

    const json = await alice.exportCalls([call.id], 'json');
    const pcap = await alice.exportCalls([call.id], 'pcap');
    const file = callLogPath(dataDir);
    const places: Record<string, string> = {
      'the phone trace (onTrace)': JSON.stringify(phoneTrace),
      "the lab's trace": JSON.stringify(labTrace),
      'the call detail (diagnostics pane, logs show)': JSON.stringify(detail),
      'the JSON export': json.data,
      'the pcap export': Buffer.from(pcap.data, 'base64').toString('latin1'),
      'the call log files': [file, `${file}-wal`].map((f) => fs.readFileSync(f).toString('latin1')).join(''),
    };
    for (const [where, text] of Object.entries(places)) for (const response of real) expect(text.includes(response), `${where} holds a digest response`).toBe(false);
    // Under any umask, the log and the files SQLite keeps beside it are the owner's only.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect((fs.statSync(f).mode & 0o777).toString(8), f).toBe('600');
    expect((fs.statSync(dataDir).mode & 0o777).toString(8)).toBe('700');
  });
});
