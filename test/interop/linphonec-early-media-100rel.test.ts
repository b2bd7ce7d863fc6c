import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';
import { KamailioServer } from '../support/kamailio.js';
import { Linphonec, type LinphonecOptions } from '../support/linphonec.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['linphonec', 'kamailio']);

/**
 * SIP messages in linphonec's log: belle-sip prints each datagram it sends (`message sent to [UDP://…]`) or receives
 * (`received [N] new bytes from [UDP://…]`) after a timestamped line naming the direction.
 */
function sipMessages(log: string, direction: 'sent' | 'received'): string[] {
  const marker = direction === 'sent' ? /channel \[[^\]]+\]: message sent to/ : /channel \[[^\]]+\]: received \[\d+\] new bytes from/;
  const out: string[] = [];
  const parts = log.split(/\n(?=\d{4}-\d{2}-\d{2} )/);
  for (const part of parts) if (marker.test(part)) out.push(part);
  return out;
}

/**
 * Issue 19 items 4-5 with Linphone's console client (Debian linphone-cli 5.1.65, unmodified) through Kamailio, the
 * phone calling: linphonec with `[sip] 100rel_support_level=2` (LinphoneSupportLevelMandatory) sends its 18x reliably
 * (Require: 100rel, RSeq) and the phone PRACKs them (RAck naming that RSeq; linphonec answers the PRACK 200); started
 * with `--real-early-media` it answers the INVITE with a reliable 183 carrying SDP and plays its tone file before
 * `answer`: the phone flags the call `earlyMedia` and its tone detector hears the 440 Hz tone before the 200.
 *
 * Not here, because linphonec cannot: a linphonec caller that requires 100rel. liblinphone 5.1 only adds `100rel` to
 * its Supported header at any support level (linphonecore.c); it never sends `Require: 100rel` in an INVITE (SIPp
 * does, in sipp-100rel.test.ts).
 *
 * Early media without 100rel: then linphonec's 183 and 180 carry no Contact (RFC 3261 §12.1.1 says they MUST). The
 * phone takes them all the same, as Linphone and baresip do (tools/postinstall/sipjs-contactless-provisional.js): it
 * rings, plays the 183's media, and the dialog's remote target is the Contact of the 200, where its BYE goes.
 */
describe.skipIf(skip)('early media and 100rel between linphonec and a Veilphone phone', () => {
  let kamailio: KamailioServer;
  let bob: Phone;
  let dave: Linphonec | undefined;
  const events: PhoneEvent[] = [];
  /** The phone's own SIP messages, for a failure's message: what it received when early media did not start. */
  const trace: SipTapEntry[] = [];

  beforeAll(async () => {
    kamailio = await KamailioServer.start();
    bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: kamailio.servers.udp, transport: 'udp', answer: { kind: 'auto', delayMs: 300 } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      onTrace: (_account, entry) => {
        trace.push(entry);
        if (trace.length > 60) trace.shift();
      },
    });
    bob.subscribe((e) => events.push(e));
    await bob.register();
  }, 60_000);

  afterEach(async () => {
    await dave?.stop();
    dave = undefined;
  });

  afterAll(async () => {
    await bob?.shutdown();
    await kamailio?.stop();
  });

  const start = async (options: LinphonecOptions): Promise<Linphonec> => {
    dave = await Linphonec.start('dave', `127.0.0.1:${kamailio.port}`, { log: true, ...options });
    return dave;
  };
  const phoneSaw = (): string => `the phone's messages:\n${trace.map((m) => `${m.dir} ${m.remote}\n${m.raw}`).join('\n---\n')}`;
  const snapshots = (id: string): CallSnapshot[] => events.flatMap((e) => (e.type === 'call' && e.call.id === id ? [e.call] : []));

  /** The phone calls dave, who plays early media until answered: what the phone had heard when the 200 came. */
  const callWithEarlyMedia = async (peer: Linphonec): Promise<{ id: string; atAnswer: { packetsReceived: number; toneShare: number } }> => {
    let atAnswer: { packetsReceived: number; toneShare: number } | undefined;
    const unsubscribe = bob.subscribe((e) => {
      if (e.type !== 'call' || e.call.state !== 'established' || atAnswer) return;
      const media = bob.mediaOf(e.call.id);
      atAnswer = { packetsReceived: media?.stats().packetsReceived ?? 0, toneShare: media?.recent.toneShare(440) ?? 0 };
    });
    try {
      const placed = await bob.call({ target: 'dave' });
      const early = await until(() => snapshots(placed.id).find((s) => s.earlyMedia === true), 15_000).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(snapshots(placed.id).at(-1))}\n${phoneSaw()}\n${peer.child.stdout.slice(-2000)}\n${peer.log().slice(-6000)}`);
      });
      expect(early.state).toBe('ringing');
      // the phone hears linphonec's tone while it rings (its tone detector over what it decoded), then dave answers
      const media = await until(() => bob.mediaOf(placed.id), 10_000);
      // a tone heard over more than 20 packets (0.4 s of early media), not the first few
      await until(() => (media.recent.toneShare(440) > 0.8 && media.stats().packetsReceived > 20 ? true : undefined), 15_000).catch((error: Error) => {
        throw new Error(`${error.message}: before the answer the phone heard ${JSON.stringify(media.stats())} in ${JSON.stringify(snapshots(placed.id).at(-1))}\n${phoneSaw()}`);
      });
      expect(snapshots(placed.id).at(-1)?.state).toBe('ringing');
      peer.send('answer');
      await until(() => atAnswer, 15_000);
      return { id: placed.id, atAnswer: atAnswer! };
    } finally {
      unsubscribe();
    }
  };

  it('linphonec requires 100rel and plays early media: its reliable 183 with SDP is PRACKed, the phone flags earlyMedia and hears its tone before the 200', async () => {
    const peer = await start({ earlyMedia: true, rel100: 'required' });
    const { id, atAnswer } = await callWithEarlyMedia(peer);
    // what the phone had heard when the 200 came: linphonec's tone, from the 183's media
    expect(atAnswer.packetsReceived).toBeGreaterThan(20);
    expect(atAnswer.toneShare).toBeGreaterThan(0.8);
    const sent = sipMessages(peer.log(), 'sent');
    const received = sipMessages(peer.log(), 'received');
    const reliable = sent.filter((m) => /SIP\/2\.0 18\d /.test(m) && /\nRequire:[^\n]*100rel/i.test(m));
    expect(reliable.length, sent.map((m) => m.slice(0, 400)).join('\n---\n')).toBeGreaterThan(0);
    const rseq = /\nRSeq: *(\d+)/i.exec(reliable[0]!)![1];
    const prack = received.find((m) => /PRACK sip:/.test(m));
    expect(prack, received.map((m) => m.slice(0, 300)).join('\n---\n')).toBeDefined();
    expect(prack).toMatch(new RegExp(`\\nRAck: *${rseq} 1 INVITE`, 'i'));
    expect(sent.some((m) => /SIP\/2\.0 200 [\s\S]*\nCSeq: *\d+ PRACK/i.test(m))).toBe(true);
    expect(snapshots(id).at(-1)).toMatchObject({ state: 'established' });
    const mark = peer.mark;
    await bob.hangup(id);
    await peer.waitFor(/ended|terminated/i, mark);
  });

  it('linphonec plays early media without 100rel: its 183 and 180 carry no Contact, yet the phone rings, hears its tone before the 200, and its BYE reaches linphonec', async () => {
    const peer = await start({ earlyMedia: true, rel100: 'none' });
    const { id, atAnswer } = await callWithEarlyMedia(peer);
    // what the phone had heard when the 200 came: linphonec's tone, from the 183's media
    expect(atAnswer.packetsReceived).toBeGreaterThan(0);
    expect(atAnswer.toneShare).toBeGreaterThan(0.8);
    // what linphonec sent: its 18x unreliable and without Contact (the bug worked around), its 200 with one
    const sent = sipMessages(peer.log(), 'sent');
    const provisional = sent.filter((m) => /SIP\/2\.0 18\d /.test(m));
    expect(provisional.length, sent.map((m) => m.slice(0, 400)).join('\n---\n')).toBeGreaterThan(0);
    expect(provisional.some((m) => /SIP\/2\.0 183 /.test(m) && /\nContent-Type: *application\/sdp/i.test(m))).toBe(true);
    for (const m of provisional) {
      expect(m).not.toMatch(/\n(Contact|m):/i);
      expect(m).not.toMatch(/\nRequire:[^\n]*100rel/i);
    }
    const ok = sent.find((m) => /SIP\/2\.0 200 [\s\S]*\nCSeq: *\d+ INVITE/i.test(m));
    const contact = /\n(?:Contact|m): *[^<\n]*<([^>]+)>/i.exec(ok ?? '')?.[1];
    expect(contact, ok).toBeDefined();
    expect(snapshots(id).at(-1)).toMatchObject({ state: 'established' });
    // the phone hangs up: its BYE, to the 200's Contact, reaches linphonec, which answers it and ends the call
    const mark = peer.mark;
    await bob.hangup(id);
    await peer.waitFor(/ended|terminated/i, mark);
    await until(() => sipMessages(peer.log(), 'received').find((m) => /\nBYE sip:/.test(m)), 10_000);
    const bye = sipMessages(peer.log(), 'received').find((m) => /\nBYE sip:/.test(m))!;
    expect(/\nBYE (sip:[^ ]+) SIP\/2\.0/.exec(bye)?.[1]).toBe(contact);
    expect(sipMessages(peer.log(), 'sent').some((m) => /SIP\/2\.0 200 [\s\S]*\nCSeq: *\d+ BYE/i.test(m))).toBe(true);
    expect(snapshots(id).at(-1)).toMatchObject({ state: 'terminated' });
  });

  it('linphonec requires 100rel without early media: its reliable 180 is PRACKed by the phone, then it answers', async () => {
    const peer = await start({ rel100: 'required' });
    const placed = await bob.call({ target: 'dave' });
    await until(() => (snapshots(placed.id).at(-1)?.state === 'ringing' ? true : undefined), 15_000);
    // linphonec has the PRACK (and answered it 200) before it is told to answer
    await until(() => (sipMessages(peer.log(), 'sent').some((m) => /SIP\/2\.0 200 [\s\S]*\nCSeq: *\d+ PRACK/i.test(m)) ? true : undefined), 15_000).catch((error: Error) => {
      throw new Error(`${error.message}: linphonec received\n${sipMessages(peer.log(), 'received').map((m) => m.slice(0, 400)).join('\n---\n')}`);
    });
    const reliable = sipMessages(peer.log(), 'sent').filter((m) => /SIP\/2\.0 180 /.test(m) && /\nRequire:[^\n]*100rel/i.test(m));
    expect(reliable.length).toBeGreaterThan(0);
    const rseq = /\nRSeq: *(\d+)/i.exec(reliable[0]!)![1];
    expect(sipMessages(peer.log(), 'received').find((m) => /PRACK sip:/.test(m))).toMatch(new RegExp(`\\nRAck: *${rseq} 1 INVITE`, 'i'));
    peer.send('answer');
    await until(() => (snapshots(placed.id).at(-1)?.state === 'established' ? true : undefined), 15_000);
    const mark = peer.mark;
    await bob.hangup(placed.id);
    await peer.waitFor(/ended|terminated/i, mark);
  });
});
