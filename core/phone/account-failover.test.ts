import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { AccountConfig } from '../api/phone-types.js';
import { parseSipMessage } from '../sip/message/index.js';
import type { SipTapEntry } from '../sip/transport/message-tap.js';
import { osSockets } from '../sip/transport/sip-sockets.js';
import { probeServer } from './account-failover.js';
import { defaultMediaProvider } from './default-media.js';
import { newAccountRuntime, type AccountRuntime } from './phone-accounts.js';

const timers = { t1: 100, t2: 400 };

/**
 * Seed 003 failback: while an account is on its backup, a throwaway identity asks the primary whether it answers
 * again (OPTIONS, RFC 3261 §11). Here the "primary" is a lab on real loopback sockets that keeps what it hears.
 */
describe('asking the primary server whether it is back', () => {
  let dataDir: string;
  let lab: Lab;
  const seen: SipTapEntry[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-probe-'));
    lab = await Lab.start({ timers, tls: { dataDir }, tap: (e) => seen.push(e) });
  });
  afterAll(async () => {
    await lab.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function account(config: Partial<AccountConfig>): AccountRuntime {
    const { account: runtime } = newAccountRuntime({ id: 'alice', user: 'alice', domain: lab.domain, server: lab.servers.udp!, transport: 'udp', ...config });
    return runtime as AccountRuntime;
  }
  const probe = (a: AccountRuntime): Promise<number | undefined> => probeServer(a, a.server, { media: defaultMediaProvider, sockets: osSockets, timers });
  /** The OPTIONS the lab heard since `from` (an index into `seen`). */
  const optionsSince = (from: number): string[] =>
    seen.slice(from).filter((e) => e.dir === 'in' && /^OPTIONS /.test(e.raw)).map((e) => e.raw);

  it('over TLS it checks the server as the account does (a pinned fingerprint), and hears its answer', async () => {
    const from = seen.length;
    const status = await probe(account({ server: lab.servers.tls!, transport: 'tls', tls: { fingerprint: lab.certificate!.fingerprint } }));
    expect(status).toBe(200);
    expect(optionsSince(from)).toHaveLength(1);
  });

  it('an account on one-time addresses asks as nobody: the probe, sent from the host\'s address, names no user of it', async () => {
    const from = seen.length;
    expect(await probe(account({ displayName: 'Alice Liddell', address: { mode: 'temporary', source: 'loopback' } }))).toBe(200);
    const [options] = optionsSince(from);
    const message = parseSipMessage(options!);
    expect(message.get('from')).toMatch(/^<sip:anonymous@anonymous\.invalid>;tag=/);
    expect(options).not.toMatch(/alice|Liddell/i);
  });

  it('an account on its fixed address asks as itself', async () => {
    const from = seen.length;
    expect(await probe(account({}))).toBe(200);
    expect(parseSipMessage(optionsSince(from)[0]!).get('from')).toMatch(/^<sip:alice@/);
  });
});
