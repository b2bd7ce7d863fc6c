import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { KamailioServer } from '../support/kamailio.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

/**
 * Issue 22 item 3 with a real peer: baresip (Debian's baresip-core) registered at Kamailio. First it is the transferee
 * of our blind REFER: it calls the target and reports in NOTIFYs, our transferor follows them to success and hangs up
 * (RFC 5589 §6.1). Then it is the transferor (driven through its UDP console): we take its REFER, call the target and
 * NOTIFY the progress, which baresip's own SIP trace shows.
 */
const skip = missingRequirements(['kamailio', 'baresip']);

describe.skipIf(skip)('transfer with baresip through Kamailio', () => {
  let kamailio: KamailioServer;
  let baresip: Child;
  const phones: Phone[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-baresip-'));

  let consolePort: number;

  /** A command to baresip's UDP console (cons.so), as typed at its prompt. */
  async function command(text: string): Promise<void> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => socket.send(`${text}\n`, consolePort, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    socket.close();
  }

  beforeAll(async () => {
    kamailio = await KamailioServer.start();
    const port = await freePort();
    consolePort = await freePort();
    fs.writeFileSync(
      path.join(dir, 'config'),
      [
        `sip_listen 127.0.0.1:${port}`,
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        // no sound card: aubridge is both the source and the player (what it plays, it does not keep)
        'module aubridge.so',
        'module account.so',
        // the menu module follows a REFER by placing the call to its target (baresip 1.0)
        'module menu.so',
        'module cons.so',
        `cons_listen 127.0.0.1:${consolePort}`,
        'audio_source aubridge,nil',
        'audio_player aubridge,nil',
        'audio_alert aubridge,nil',
        ''
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'accounts'), `<sip:bob@127.0.0.1:${kamailio.port};transport=udp>;answermode=auto;regint=600;audio_codecs=PCMU\n`);
    baresip = Child.start('baresip', ['-f', dir, '-s'], { cwd: dir });
    await baresip.waitFor(/bob@127\.0\.0\.1: \{[^}]+\} 200 OK/, 20_000); // its registration answered
  });
  afterAll(async () => {
    await Promise.all(phones.map((p) => p.shutdown()));
    await baresip?.stop();
    await kamailio?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function phone(user: string, answer: boolean): { phone: Phone; events: PhoneEvent[]; trace: SipTapEntry[] } {
    const events: PhoneEvent[] = [];
    const trace: SipTapEntry[] = [];
    const p = new Phone({
      accounts: [{ id: user, user, server: kamailio.servers.udp, transport: 'udp', ...(answer ? { answer: { kind: 'auto' as const } } : {}) }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      onTrace: (_account, entry) => trace.push(entry),
    });
    p.subscribe((e) => events.push(e));
    phones.push(p);
    return { phone: p, events, trace };
  }
  const last = (events: PhoneEvent[], id: string): CallSnapshot | undefined =>
    events.filter((e): e is Extract<PhoneEvent, { type: 'call' | 'incoming' }> => (e.type === 'call' || e.type === 'incoming') && e.call.id === id).at(-1)?.call;

  it('baresip follows our blind REFER to carol, NOTIFYs its progress, and we hang up once it succeeded', async () => {
    const alice = phone('alice', false);
    const carol = phone('carol', true);
    await alice.phone.register();
    await carol.phone.register();
    const call = await alice.phone.call({ target: 'bob' });
    await until(() => last(alice.events, call.id)?.state === 'established', 20_000);
    await alice.phone.transfer(call.id, { to: 'carol' });
    await until(() => last(alice.events, call.id)?.transfer?.state === 'succeeded' || last(alice.events, call.id)?.transfer?.state === 'failed', 20_000);
    expect(last(alice.events, call.id)!.transfer, `${baresip.stdout.slice(-3000)}`).toMatchObject({ role: 'transferor', state: 'succeeded', status: 200 });
    await until(() => last(alice.events, call.id)?.state === 'terminated', 10_000);
    const atCarol = carol.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')!.call;
    expect(atCarol.remote.user).toBe('bob');
    await until(() => last(carol.events, atCarol.id)?.state === 'established');
    // baresip's NOTIFYs as alice received them: message/sipfrag, the last one terminated
    const notifies = alice.trace.filter((e) => e.dir === 'in' && e.raw.startsWith('NOTIFY '));
    expect(notifies.length).toBeGreaterThan(0);
    expect(notifies.at(-1)!.raw).toMatch(/Content-Type:\s*message\/sipfrag/i);
    expect(notifies.at(-1)!.raw).toMatch(/SIP\/2\.0 200/);
    // baresip's console acts on its current call: leave it none for the next test
    await carol.phone.hangup(atCarol.id);
    await until(() => last(carol.events, atCarol.id)?.state === 'terminated');
  });

  it('we follow baresip\'s blind REFER as the transferee: 202, NOTIFY 100 Trying (active), the call to carol, NOTIFY 200 OK (terminated)', async () => {
    const alice = phone('alice2', true);
    const carol = phone('carol2', true);
    await alice.phone.register();
    await carol.phone.register();
    const seen = baresip.stdout.length;
    await command(`/dial sip:alice2@127.0.0.1:${kamailio.port}`);
    // a wait that runs out says what baresip saw (its -s trace) and what alice received
    const explained = (error: Error): never => {
      throw new Error(`${error.message}\nbaresip:\n${baresip.stdout.slice(seen).slice(-4000)}\nalice2 received:\n${alice.trace.filter((e) => e.dir === 'in').map((e) => e.raw.split('\r\n')[0]).join('\n')}`);
    };
    const leg = await until(() => alice.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')?.call, 20_000).catch(explained);
    await until(() => last(alice.events, leg.id)?.state === 'established', 20_000).catch(explained);
    await command(`/transfer sip:carol2@127.0.0.1:${kamailio.port}`);
    await until(() => ['succeeded', 'failed'].includes(last(alice.events, leg.id)?.transfer?.state ?? ''), 20_000);
    expect(last(alice.events, leg.id)!.transfer, baresip.stdout.slice(seen).slice(-3000)).toMatchObject({ role: 'transferee', state: 'succeeded', status: 200 });
    const atCarol = await until(() => carol.events.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming')?.call);
    expect(atCarol.remote.user).toBe('alice2');
    await until(() => last(carol.events, atCarol.id)?.state === 'established');
    // what baresip received (its -s trace): our NOTIFYs, 100 Trying while active, 200 OK with terminated
    const received = baresip.stdout.slice(seen);
    await until(() => /Subscription-State: terminated[^]*SIP\/2\.0 200 OK/.test(baresip.stdout.slice(seen)), 10_000);
    expect(received).toMatch(/NOTIFY sip:[^]*Event: refer[^]*Subscription-State: active;expires=60[^]*Content-Type: message\/sipfrag[^]*SIP\/2\.0 100 Trying/);
  });
});
