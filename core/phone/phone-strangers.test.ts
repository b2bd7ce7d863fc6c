import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import type { AccountConfig, PhoneEvent } from '../api/phone-types.js';
import { parseSipMessage, type SipResponse } from '../sip/message/index.js';
import { Phone } from './phone.js';

const timers = { t1: 100, t2: 400 };

/**
 * Issue 17 item 5: a phone registered at a server takes requests outside a dialog only from its servers. A stranger who
 * learnt the Contact (from a scan, or from an earlier call) and sends an INVITE as "Your Bank" straight to it gets 403
 * and rings nothing; `directCalls` lets anyone through, as MicroSIP and Linphone do.
 */
describe('requests straight to a phone from a stranger', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function setUp(bobAccount: Partial<AccountConfig>): Promise<{ lab: Lab; alice: Phone; bob: Phone; bobEvents: PhoneEvent[]; contactPort: number }> {
    const lab = await Lab.start({ timers });
    cleanup.push(() => lab.stop());
    const phone = (account: AccountConfig): Phone => {
      const p = new Phone({ accounts: [account], createSessionDescriptionHandlerFactory: () => staticSdhFactory(), timers });
      cleanup.push(() => p.shutdown());
      return p;
    };
    const alice = phone({ id: 'alice', user: 'alice', server: lab.servers.udp!, transport: 'udp', domain: lab.domain });
    const bob = phone({ id: 'bob', user: 'bob', server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' }, ...bobAccount });
    const bobEvents: PhoneEvent[] = [];
    bob.subscribe((e) => bobEvents.push(e));
    await alice.register();
    const contact = (await bob.register()).contact!;
    return { lab, alice, bob, bobEvents, contactPort: Number(/:(\d+)(?:;|>|$)/.exec(contact)![1]) };
  }

  async function stranger(): Promise<{ send(raw: string, port: number): void; answers: SipResponse[]; port: number }> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    cleanup.push(() => void socket.close());
    const answers: SipResponse[] = [];
    socket.on('message', (data) => {
      const m = parseSipMessage(data);
      if (m.kind === 'response') answers.push(m);
    });
    return { send: (raw, port) => socket.send(raw, port, '127.0.0.1'), answers, port: socket.address().port };
  }

  const request = (method: string, id: string, port: number, body = ''): string =>
    [
      `${method} sip:bob@127.0.0.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${id}`,
      'Max-Forwards: 70',
      'From: "Your Bank" <sip:security@bank.example>;tag=b1',
      '<sip:bob@127.0.0.1>'.replace(/^/, 'To: '),
      `Call-ID: ${id}@bank.example`,
      `CSeq: 1 ${method}`,
      `Contact: <sip:security@127.0.0.1:${port}>`,
      ...(body ? ['Content-Type: text/plain'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');

  it('answers a stranger\'s INVITE, MESSAGE and OPTIONS with 403, rings nothing, and still takes calls through its server', async () => {
    const { lab, alice, bobEvents, contactPort, bob } = await setUp({});
    const eve = await stranger();
    eve.send(request('INVITE', 'inv1', eve.port), contactPort);
    eve.send(request('MESSAGE', 'msg1', eve.port, 'Your account is locked. Call us back.'), contactPort);
    eve.send(request('OPTIONS', 'opt1', eve.port), contactPort);
    // a To that is no SIP URI (RFC 3261 §25.1 allows any absoluteURI; RFC 4475 §3.3.4): read, refused, nothing thrown
    eve.send(request('INVITE', 'inv3', eve.port).replace('To: <sip:bob@127.0.0.1>', 'To: <isbn:2983792873>'), contactPort);
    await until(() => eve.answers.filter((a) => a.status >= 200).length === 4 || undefined);
    expect(eve.answers.filter((a) => a.status >= 200).map((a) => `${a.cseq.method} ${a.status}`).sort()).toEqual(['INVITE 403', 'INVITE 403', 'MESSAGE 403', 'OPTIONS 403']);
    expect(eve.answers.some((a) => a.status < 200)).toBe(false); // not even a 100 Trying: sip.js never saw them
    expect(bobEvents.filter((e) => e.type === 'incoming')).toEqual([]);
    expect((await bob.history()).calls).toEqual([]);

    // alice through the lab still reaches bob
    const placed = await alice.call({ target: 'bob' });
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.state === 'established') || undefined);
    // a call through the server names the server as its SIP peer, on both sides
    expect((await bob.history()).calls[0]).toMatchObject({ direction: 'incoming', remoteSip: lab.servers.udp!.replace(/^sip:|;.*$/g, '') });
    expect((await alice.history()).calls[0]).toMatchObject({ direction: 'outgoing', remoteSip: lab.servers.udp!.replace(/^sip:|;.*$/g, '') });
    await alice.hangup(placed.id);
  });

  it('answers a stranger\'s request (a CANCEL too) with a made-up To tag 481 once, at its own address, the same for any user, naming nothing', async () => {
    const { bob, bobEvents, contactPort } = await setUp({});
    const eve = await stranger();
    const victim = await stranger(); // a host eve would have the phone's answers sent to
    const tagged = (method: string, id: string, user = 'bob'): string =>
      request(method, id, eve.port)
        .replace('To: <sip:bob@127.0.0.1>', `To: <sip:${user}@127.0.0.1>;tag=made-up`)
        .replace(`${method} sip:bob@127.0.0.1`, `${method} sip:${user}@127.0.0.1`)
        // eve's own address in the sent-by, the victim's in received and rport: no source address forged
        .replace(`branch=z9hG4bK${id}`, `branch=z9hG4bK${id};received=127.0.0.1;rport=${victim.port}`);
    eve.send(tagged('INVITE', 'tag-inv'), contactPort);
    eve.send(tagged('OPTIONS', 'tag-opt'), contactPort);
    eve.send(tagged('OPTIONS', 'tag-opt-nobody', 'nobody'), contactPort);
    eve.send(tagged('BYE', 'tag-bye'), contactPort);
    // a CANCEL with a To tag (of a re-INVITE in a dialog, were there one): sip.js answered it 481 itself, with our
    // User-Agent, and kept the answer, every Via copied, for 64·T1 (attack review: 1,500 of 62 KB took 300 MB)
    eve.send(tagged('CANCEL', 'tag-cancel'), contactPort);
    await until(() => eve.answers.length >= 5 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 10 * timers.t1)); // Timer G would have resent the INVITE's 481 3 times
    expect(victim.answers).toEqual([]);
    expect(eve.answers.map((a) => `${a.cseq.method} ${a.status}`).sort()).toEqual(['BYE 481', 'CANCEL 481', 'INVITE 481', 'OPTIONS 481', 'OPTIONS 481']);
    // a 404 for the user it does not serve would tell eve whose one-time address this is; sip.js's headers, what it is
    for (const answer of eve.answers) expect([answer.has('user-agent'), answer.has('server'), answer.has('supported')]).toEqual([false, false, false]);
    expect(bobEvents.filter((e) => e.type === 'incoming')).toEqual([]);
    expect((await bob.history()).calls).toEqual([]);
  });

  it('files a stranger\'s forged BYE for a live call in that call\'s trace as refused, with the 481 it got, and the call goes on', async () => {
    const { alice, bob, bobEvents, contactPort } = await setUp({});
    const placed = await alice.call({ target: 'bob' });
    const answered = await until(() => bobEvents.find((e): e is Extract<PhoneEvent, { type: 'call' }> => e.type === 'call' && e.call.state === 'established')?.call);
    const eve = await stranger();
    // the call's own Call-ID (eve saw it on the wire) with tags she made up
    eve.send(request('BYE', 'forged-bye', eve.port).replace('forged-bye@bank.example', answered.sipCallId).replace('To: <sip:bob@127.0.0.1>', 'To: <sip:bob@127.0.0.1>;tag=made-up'), contactPort);
    await until(() => eve.answers.find((a) => a.status === 481));
    await alice.hangup(placed.id);
    await until(() => bobEvents.some((e) => e.type === 'call' && e.call.id === answered.id && e.call.state === 'terminated') || undefined);
    const trace = (await until(() => bob.callDetail(answered.id)))!.messages;
    const refused = trace.filter((m) => m.refused !== undefined).map((m) => `${m.dir} ${m.raw.split('\r\n')[0]} ${m.refused}`);
    expect(refused).toEqual([`in BYE sip:bob@127.0.0.1 SIP/2.0 STRANGER_NO_DIALOG`, `out SIP/2.0 481 Call/Transaction Does Not Exist STRANGER_NO_DIALOG`]);
    // the call's own messages are not marked, its real BYE among them
    expect(trace.filter((m) => m.refused === undefined && /^BYE /.test(m.raw))).toHaveLength(1);
    expect((await bob.history()).calls[0]).toMatchObject({ endedBy: 'remote', status: 200 });
  });

  it('with directCalls on, a call straight to the Contact rings', async () => {
    const { bob, bobEvents, contactPort } = await setUp({ directCalls: true });
    const eve = await stranger();
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
    eve.send(request('INVITE', 'inv2', eve.port, '').replace('Content-Length: 0\r\n\r\n', `Content-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`), contactPort);
    const ringing = await until(() => bobEvents.find((e): e is Extract<PhoneEvent, { type: 'incoming' }> => e.type === 'incoming'));
    expect(ringing.call.remote.shown).toBe('Your Bank');
    // Issue 19 item 12: the call log names the peer the INVITE came from, not the registrar
    const [logged] = (await bob.history()).calls;
    expect(logged).toMatchObject({ direction: 'incoming', remoteSip: `127.0.0.1:${eve.port}` });
  });

  it('shows a caller\'s display name so that it can neither turn the text around nor hide in it (shown-name.ts)', async () => {
    const { bob, bobEvents, contactPort } = await setUp({ directCalls: true });
    const eve = await stranger();
    // RFC 3261 §25.1 lets a quoted display name carry U+202E as UTF-8 and an ESC as a quoted-pair
    const names = ['"\u202Egpj.exe\\\x1b[2J  Your\u200b Bank\t" <sip:security@bank.example>', `"${'W'.repeat(300)}" <sip:security@bank.example>`, '"\u2066\u200f\\\x07" <sip:security@bank.example>'];
    names.forEach((from, i) => eve.send(request('INVITE', `name${i}`, eve.port).replace('"Your Bank" <sip:security@bank.example>', from), contactPort));
    await until(() => bobEvents.filter((e) => e.type === 'incoming').length === 3 || undefined);
    const shown = bobEvents.flatMap((e) => (e.type === 'incoming' ? [e.call] : [])).sort((a, b) => a.sipCallId.localeCompare(b.sipCallId)).map((c) => c.remote.shown);
    expect(shown).toEqual(['gpj.exe[2J Your Bank', `${'W'.repeat(63)}…`, 'security']);
    const logged = (await bob.history()).calls.map((c) => c.remoteShown).sort();
    expect(logged).toEqual([...shown].sort());
  });
});
