import { afterEach, describe, expect, it } from 'vitest';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { Baresip } from '../support/baresip.js';
import { freePort } from '../support/free-port.js';
import { Linphonec } from '../support/linphonec.js';
import { startSigningLab, type SigningSnapshot } from '../support/signing-lab.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['baresip', 'linphonec']);

/** What the test does with a third-party phone registered as `user` with the lab; baresip and linphonec each their way. */
interface Peer {
  readonly user: string;
  dial(uri: string): Promise<void>;
  /** Until its call is established. */
  established(): Promise<unknown>;
  hangup(): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

/** baresip answering at once (`answermode=auto`), driven by ctrl_tcp. */
async function baresip(lab: number, sipPort: number): Promise<Peer> {
  const carol = await Baresip.start(() => `<sip:carol@127.0.0.1:${lab};transport=udp>;regint=60;answermode=auto`, { sipPort });
  await carol.registered().catch(async (error: unknown) => {
    await carol.stop();
    throw error;
  });
  return {
    user: 'carol',
    dial: async (uri) => void expect((await carol.command('dial', uri)).ok).toBe(true),
    established: () => carol.event('CALL_ESTABLISHED'),
    hangup: async () => void expect((await carol.command('hangup')).ok).toBe(true),
    output: () => carol.child.stdout.slice(-3000),
    stop: () => carol.stop(),
  };
}

/** Linphone's console client answering at once (`-a`), driven by its standard input. */
async function linphonec(lab: number, sipPort: number): Promise<Peer> {
  const dave = await Linphonec.start('dave', `127.0.0.1:${lab}`, { autoAnswer: true, sipPort });
  return {
    user: 'dave',
    dial: async (uri) => dave.send(`call ${uri}`),
    established: () => dave.waitFor(/Call \d+ with .* connected/),
    hangup: async () => dave.send('terminate'),
    output: () => dave.child.stdout.slice(-3000),
    stop: () => dave.stop(),
  };
}

/**
 * Issue 21 item 6: seed 002's signatures with third-party phones (SIPp is in signing-sipp.test.ts). baresip and
 * Linphone's console client register with `veilphone lab --signing` (any user, no digest: the lab's default) and call
 * a Veilphone phone registered there, or are called by it; the phone takes requests outside a dialog only from the
 * lab. Untampered, the call is established with audio, the peer's ACK and BYE pass the proxy's route-set check and the
 * proxy refuses nothing. With `--tamper KIND --tamper-link <the peer's link>` only what the peer sends is forged: the
 * proxy drops each forgery, counts it, and the call fails.
 */
describe.skipIf(skip).each([
  ['baresip', baresip],
  ['linphonec', linphonec],
] as const)('%s through the signing lab (seed 002)', (name, startPeer) => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  /** The lab (with `tamper` on the peer's link only), the peer registered with it, and phone bob, who answers at once. */
  async function setUp(tamper?: string): Promise<{
    peer: Peer;
    peerLink: string;
    bob: Phone;
    lab: number;
    snapshot: () => Promise<SigningSnapshot>;
    latest: (id: string) => CallSnapshot | undefined;
    calls: () => CallSnapshot[];
    /** The phone calls the peer, or the peer the phone; both ends established, the phone's call id. */
    connect: (caller: 'phone' | 'peer') => Promise<string>;
  }> {
    // The peer's port is named to the lab (its tampered link) before the peer binds it, so another socket may take it
    // meanwhile (the lab's own, bound to port 0, among them): then both start again on another port.
    let started: { sipPort: number; lab: Awaited<ReturnType<typeof startSigningLab>>; peer: Peer } | undefined;
    for (let attempt = 1; !started; attempt++) {
      const sipPort = await freePort();
      const lab = await startSigningLab(tamper ? ['--tamper', tamper, '--tamper-link', `udp:127.0.0.1:${sipPort}`] : []);
      try {
        started = { sipPort, lab, peer: await startPeer(lab.udp, sipPort) };
      } catch (error) {
        await lab.child.stop();
        if (attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
      }
    }
    const { sipPort, lab, peer } = started;
    stops.push(() => lab.child.stop());
    stops.push(() => peer.stop());
    const bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: lab.servers.udp, transport: 'udp', answer: { kind: 'auto' } }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
    stops.push(() => bob.shutdown());
    const events: PhoneEvent[] = [];
    bob.subscribe((e) => events.push(e));
    await bob.register();
    const calls = (): CallSnapshot[] => events.flatMap((e) => (e.type === 'call' ? [e.call] : []));
    const connect = async (caller: 'phone' | 'peer'): Promise<string> => {
      if (caller === 'phone') await bob.call({ target: peer.user });
      else await peer.dial(`sip:bob@127.0.0.1:${lab.udp}`);
      const call = await until(() => calls().find((c) => c.state === 'established'), 15_000);
      await peer.established();
      return call.id;
    };
    return { peer, peerLink: `udp:127.0.0.1:${sipPort}`, bob, lab: lab.udp, snapshot: lab.snapshot, calls, latest: (id) => calls().filter((c) => c.id === id).at(-1), connect };
  }

  /** Until bob has received 25 RTP packets of the call: audio flows. */
  async function hears(bob: Phone, id: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (((await bob.snapshot()).calls.find((c) => c.id === id)?.media?.packetsReceived ?? 0) >= 25) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('bob heard fewer than 25 RTP packets within 10 s');
  }

  /** Until the proxy has refused a message from the peer's link whose start line matches. */
  async function refused(snapshot: () => Promise<SigningSnapshot>, peerLink: string, line: RegExp): Promise<SigningSnapshot> {
    for (let i = 0; i < 300; i++) {
      const now = await snapshot();
      if (now.sip.signing.failures.recent.some((f) => f.from === peerLink && line.test(f.message))) return now;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the proxy refused no ${line} from ${peerLink} within 15 s: ${JSON.stringify((await snapshot()).sip.signing.failures)}`);
  }

  /** Each forgery was the peer's, caught as `family` invalid, and nothing else was refused. */
  function caughtEveryForgery(snapshot: SigningSnapshot, family: string, peerLink: string): void {
    const { failures } = snapshot.sip.signing;
    expect(snapshot.sip.tamper!.altered).toBeGreaterThan(0);
    expect(failures.total).toBe(snapshot.sip.tamper!.altered);
    expect(failures.byFamily[family]).toBe(failures.total);
    expect(failures.byVerdict).toEqual({ invalid: failures.total });
    expect(failures.recent.map((f) => f.from)).toEqual(failures.recent.map(() => peerLink));
  }

  // Untampered, each way: the peer hangs up. As the callee its 180/200 carry back the Via and Record-Route signatures
  // and its BYE the callee's route set; as the caller its ACK and BYE carry the caller's route set, signed in bob's 200.
  it.each([
    { caller: 'phone' as const, title: `the phone calls ${name}`, direction: 'outgoing', signed: 'route-set-callee', verified: { via: 1, 'record-route': 1, 'route-set': 2 } },
    { caller: 'peer' as const, title: `${name} calls the phone`, direction: 'incoming', signed: 'route-set-caller', verified: { 'route-set': 2 } },
  ])('$title, untampered: audio, the peer hangs up, its in-dialog requests pass the route-set check, zero failures', async ({ caller, direction, signed, verified }) => {
    const { peer, bob, snapshot, latest, connect } = await setUp();
    const id = await connect(caller);
    await hears(bob, id);
    await peer.hangup();
    await until(() => latest(id)?.state === 'terminated' || undefined, 10_000);
    expect(latest(id)).toMatchObject({ direction, endedBy: 'remote', status: 200 });
    const signing = (await snapshot()).sip.signing;
    expect(signing.failures.total, JSON.stringify(signing.failures.recent)).toBe(0);
    expect(signing.signed[signed]).toBeGreaterThanOrEqual(1);
    for (const [family, least] of Object.entries(verified)) expect(signing.verified[family], family).toBeGreaterThanOrEqual(least);
  });

  // The peer as the callee: its 180/200 carry the Vias and the Record-Route the proxy signed.
  it.each([
    ['via', 'via'],
    ['record_route', 'record-route'],
  ])(`tamper %s on ${name}'s link, ${name} called: its answer is dropped and counted, the phone never hears it`, async (kind, family) => {
    const { peer, peerLink, bob, snapshot, latest } = await setUp(kind);
    const placed = await bob.call({ target: peer.user });
    const after = await refused(snapshot, peerLink, /^SIP\/2\.0 200 /);
    expect(latest(placed.id)?.state).not.toBe('established');
    caughtEveryForgery(after, family, peerLink);
    await bob.hangup(placed.id);
  });

  it(`tamper route_set on ${name}'s link, ${name} called: its BYE is dropped and counted, the phone's call stays up`, async () => {
    const { peer, peerLink, bob, snapshot, latest, connect } = await setUp('route_set');
    const id = await connect('phone');
    await peer.hangup();
    const after = await refused(snapshot, peerLink, /^BYE /);
    expect(latest(id)?.state).toBe('established');
    caughtEveryForgery(after, 'route-set', peerLink);
    expect(after.sip.signing.verified['route-set']).toBeGreaterThanOrEqual(1); // bob's ACK: his link is not forged on
    await bob.hangup(id);
    await until(() => latest(id)?.state === 'terminated' || undefined, 10_000);
    expect(latest(id)?.endedBy).toBe('local');
  });

  // The peer as the caller sends no response that carries the proxy's Record-Route (only the callee's answers to the
  // INVITE do, and the lab record-routes initial INVITEs only), so `record_route` has nothing to forge on its link.
  // Its only responses are to the phone's in-dialog requests, so `via` can only forge its 200 to the phone's BYE: the
  // call was up already and still ends (the peer got the BYE; sip.js ends the phone's side when it sends it), but the
  // 200 never reaches the phone.
  it(`tamper via on ${name}'s link, ${name} calling: its 200 to the phone's BYE is dropped and counted`, async () => {
    const { peerLink, bob, snapshot, connect } = await setUp('via');
    await bob.hangup(await connect('peer'));
    const after = await refused(snapshot, peerLink, /^SIP\/2\.0 200 /);
    caughtEveryForgery(after, 'via', peerLink);
  });

  it(`tamper route_set on ${name}'s link, ${name} calling: its ACK and BYE are dropped and counted, the phone never hears the hang-up`, async () => {
    const { peer, peerLink, lab, snapshot, calls, latest } = await setUp('route_set');
    await peer.dial(`sip:bob@127.0.0.1:${lab}`);
    await peer.established();
    const call = await until(() => calls().find((c) => c.direction === 'incoming'), 15_000);
    await refused(snapshot, peerLink, /^ACK /);
    await peer.hangup();
    const after = await refused(snapshot, peerLink, /^BYE /);
    expect(latest(call.id)?.endedBy).not.toBe('remote');
    caughtEveryForgery(after, 'route-set', peerLink);
  });
});
