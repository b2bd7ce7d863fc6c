import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { KamailioServer } from '../support/kamailio.js';
import { Linphonec } from '../support/linphonec.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['linphonec', 'kamailio']);

/**
 * Issue 19, "Real peers in CI": Linphone's console client (Debian linphone-cli) and a Veilphone phone, both registered
 * with Kamailio (deploy/kamailio) over UDP: calls both ways, hold and resume from each side, DTMF both ways. (Early
 * media and a peer that requires 100rel are items 4-5, done elsewhere.)
 */
describe.skipIf(skip)('linphonec and a Veilphone phone through Kamailio', () => {
  let kamailio: KamailioServer;
  let dave: Linphonec;
  let bob: Phone;
  const events: PhoneEvent[] = [];

  beforeAll(async () => {
    kamailio = await KamailioServer.start();
    dave = await Linphonec.start('dave', `127.0.0.1:${kamailio.port}`, { autoAnswer: true });
    bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: kamailio.servers.udp, transport: 'udp', answer: { kind: 'auto' } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
    bob.subscribe((e) => events.push(e));
    await bob.register();
  }, 60_000);

  afterAll(async () => {
    await bob?.shutdown();
    await dave?.stop();
    await kamailio?.stop();
  });

  const live = async (id: string): Promise<CallSnapshot> => (await bob.snapshot()).calls.find((c) => c.id === id)!;
  const latest = (id: string): CallSnapshot | undefined => events.flatMap((e) => (e.type === 'call' && e.call.id === id ? [e.call] : [])).at(-1);
  /** Until bob has received `more` RTP packets beyond what he had. */
  const hears = async (id: string, more = 25): Promise<void> => {
    const before = (await live(id)).media?.packetsReceived ?? 0;
    for (let i = 0; i < 200; i++) {
      if (((await live(id)).media?.packetsReceived ?? 0) >= before + more) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`bob heard fewer than ${more} RTP packets more than ${before} within 10 s`);
  };

  it('the phone calls linphonec: audio both ways, hold and resume from each side, DTMF both ways, the phone hangs up', async () => {
    const placed = await bob.call({ target: 'dave' });
    await until(() => latest(placed.id)?.state === 'established' || undefined, 15_000);
    await hears(placed.id);
    expect((await live(placed.id)).media!.packetsSent).toBeGreaterThan(0);

    await bob.hold(placed.id, true);
    expect(latest(placed.id)).toMatchObject({ localHold: true });
    await bob.hold(placed.id, false);
    await hears(placed.id);

    let mark = dave.mark;
    dave.send('pause');
    await until(() => latest(placed.id)?.remoteHold === true || undefined, 10_000).catch((error: Error) => {
      throw new Error(`${error.message}: linphonec printed\n${dave.child.stdout.slice(mark)}`);
    });
    await dave.waitFor(/is now paused/, mark); // its re-INVITE's transaction is over: it can resume
    dave.send('resume');
    await until(() => latest(placed.id)?.remoteHold === false || undefined, 10_000).catch((error: Error) => {
      throw new Error(`${error.message}: linphonec printed\n${dave.child.stdout.slice(mark)}`);
    });
    await hears(placed.id);

    mark = dave.mark;
    await bob.sendDtmf(placed.id, '159');
    await dave.waitFor(/tone 1[\s\S]*tone 5[\s\S]*tone 9/i, mark);
    const heard: string[] = [];
    bob.subscribe((e) => e.type === 'dtmf' && e.callId === placed.id && heard.push(e.digit));
    dave.send('37');
    await until(() => heard.join('') === '37' || undefined, 10_000);

    mark = dave.mark;
    await bob.hangup(placed.id);
    await dave.waitFor(/ended|terminated/i, mark);
  });

  it('linphonec calls the phone, which answers; linphonec hangs up', async () => {
    dave.send(`call sip:bob@127.0.0.1:${kamailio.port}`);
    const call = await until(() => events.flatMap((e) => (e.type === 'call' && e.call.direction === 'incoming' && e.call.state === 'established' ? [e.call] : []))[0], 15_000);
    await hears(call.id);
    dave.send('terminate');
    await until(() => latest(call.id)?.state === 'terminated' || undefined, 10_000);
    expect(latest(call.id)).toMatchObject({ endedBy: 'remote', status: 200 });
  });
});
