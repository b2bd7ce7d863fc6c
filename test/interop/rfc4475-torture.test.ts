import type dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { parseSipMessage, type SipMessage, type SipResponse } from '../../core/sip/message/index.js';
import { SipIdentity } from '../../core/sip/sip-identity.js';
import type { SipCall } from '../../core/sip/sip-call.js';
import type { Endpoint } from '../../core/sip/transport/endpoint.js';
import { StreamFramer } from '../../core/sip/transport/stream-framer.js';
import { staticSdhFactory } from '../support/static-sdh.js';
import {
  ackFor,
  answerKey,
  bindPeer,
  describeAnswer,
  expected,
  FakeServer,
  Inbox,
  isAnswerTo,
  probe,
  startSink,
} from '../support/rfc4475-harness.js';
import { rfc4475Cases, rfc4475Message, type TortureAnswer, type TortureCase } from '../support/rfc4475-table.js';

/** RFC 3261's timers shortened: a TCP connection left with half a message is closed after 64·T1 = 3.2 s. */
const timers = { t1: 50, t2: 200 };
const labAddress = '127.0.0.2';

/** Every host the RFC's messages name, so the lab forwards to the test's next hop instead of resolving example.com. */
function fixtureHosts(): string[] {
  const hosts = new Set<string>(['127.0.0.1']);
  for (const c of rfc4475Cases) {
    for (const match of rfc4475Message(c.name).toString('latin1').matchAll(/(?:[A-Za-z0-9-]+\.)*(?:example\.(?:com|net|org|edu)|company\.com)|\b192\.0\.2\.\d+\b/g)) {
      hosts.add(match[0].toLowerCase());
    }
  }
  return [...hosts];
}

/** One way of reaching an element: send bytes, see its answers, learn when it closed the stream. */
interface Path {
  send(data: Buffer | string): void;
  inbox: Inbox;
  /** Resolves true when the element closes the connection within `ms` (streams only). */
  closed?(ms: number): Promise<boolean>;
  /** The Request-URI and Via of a probe the element answers itself. */
  probeUri: string;
  probeVia: Endpoint;
  transport: 'UDP' | 'TCP';
}

interface Outcome {
  got: string;
  answer?: SipResponse;
  forwarded?: SipMessage;
}

let probes = 0;

/**
 * Send one message and read what the element made of it. An answer is awaited (over UDP the message is sent again
 * every T2 meanwhile, as a UAC does, RFC 3261 §17.1.2.2: two of the RFC's messages share a branch and a sent-by, so
 * an element rightly takes the second for the first until that transaction is over). No answer is expected only after
 * a probe the element answers itself has been answered: everything sent before it has been dealt with by then.
 */
async function exchange(c: TortureCase, path: Path, want: TortureAnswer, sink?: Inbox): Promise<Outcome> {
  const key = answerKey(c.name);
  const message = rfc4475Message(c.name);
  path.send(message);
  if ('closed' in want) {
    const closed = await path.closed!(64 * timers.t1 + 5000);
    const answer = path.inbox.messages.find((m) => isAnswerTo(key, m));
    return { got: answer ? String((answer as SipResponse).status) : closed ? 'closed' : 'open' };
  }
  let answer: SipResponse | undefined;
  if ('dropped' in want) {
    const p = probe(++probes, path.probeUri, path.probeVia, path.transport);
    path.send(p.raw);
    const alive = await path.inbox.next((m) => m.kind === 'response' && m.status >= 200 && m.callId === p.callId, 5000);
    if (!alive) return { got: 'no answer to the probe' };
    answer = path.inbox.messages.find((m) => isAnswerTo(key, m)) as SipResponse | undefined;
  } else {
    for (let attempt = 0; attempt < 40 && !answer; attempt++) {
      answer = (await path.inbox.next((m) => isAnswerTo(key, m), timers.t2)) as SipResponse | undefined;
      if (!answer && path.transport === 'UDP') path.send(message);
    }
  }
  if (!answer) return { got: 'dropped' };
  const ack = answer.status >= 300 && /\sINVITE\s*$/.test(answer.get('cseq') ?? '') ? ackFor(c.name, answer) : undefined;
  if (ack) path.send(ack);
  const forwarded = sink?.messages.find((m) => m.kind === 'request' && m.method !== 'ACK' && key.callId !== undefined && m.callId === key.callId);
  if (forwarded && forwarded.kind === 'request' && answer.status === (forwarded.method === 'INVITE' ? 486 : 200)) {
    return { got: 'forwarded', answer, forwarded };
  }
  const headers = 'status' in want ? Object.keys(want.headers ?? {}) : [];
  return { got: describeAnswer({ status: answer.status, headers: Object.fromEntries(headers.map((h) => [h, answer.get(h) ?? ''])) }), answer };
}

/** Run every case along `path`, returning what each got next to what it should have got. */
async function runAll(role: 'proxy' | 'ua', transport: 'udp' | 'tcp', pathFor: (c: TortureCase) => Promise<Path>, sink?: Inbox, skip: (c: TortureCase) => boolean = () => false) {
  const rows: Array<{ name: string; section: string; want: string; got: string }> = [];
  const outcomes = new Map<string, Outcome>();
  for (const c of rfc4475Cases) {
    if (skip(c)) continue;
    const want = expected(c, role, transport);
    const outcome = await exchange(c, await pathFor(c), want, sink);
    outcomes.set(c.name, outcome);
    rows.push({ name: c.name, section: c.section, want: describeAnswer(want), got: outcome.got });
  }
  return { rows, outcomes };
}

function report(title: string, rows: Array<{ name: string; section: string; want: string; got: string }>): void {
  console.log(`${title}\n${rows.map((r) => `  §${r.section.padEnd(9)} ${r.name.padEnd(11)} ${r.got}${r.got === r.want ? '' : `   (RFC: ${r.want})`}`).join('\n')}`);
}

/** A client TCP connection whose incoming stream is framed into `inbox`. */
async function tcpPath(remote: Endpoint, probeUri: string): Promise<Path> {
  const socket = net.connect(remote.port, remote.address);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined);
  const inbox = new Inbox();
  const framer = new StreamFramer((data) => inbox.push(parseSipMessage(data)));
  socket.on('data', (chunk) => framer.push(chunk));
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    send: (data) => void socket.write(data),
    inbox,
    closed: (ms) => Promise.race([gone.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]),
    probeUri,
    probeVia: { address: socket.localAddress!, port: socket.localPort! },
    transport: 'TCP',
  };
}

describe('RFC 4475 §3 torture messages', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  const closeSocket = (socket: dgram.Socket) => () => void socket.close();

  it.each(['udp', 'tcp'] as const)('the lab answers each as a proxy must, over %s, and still registers and calls', async (transport) => {
    const sink = await startSink();
    cleanup.push(closeSocket(sink.socket));
    const peers = Object.fromEntries(fixtureHosts().map((host) => [host, { address: '127.0.0.1', port: sink.port }]));
    const lab = await Lab.start({ address: labAddress, timers, peers });
    cleanup.push(() => lab.stop());
    const port = lab.sip.ports[transport]!;
    const probeUri = `sip:${labAddress}:${port}`;
    let pathFor: (c: TortureCase) => Promise<Path>;
    if (transport === 'udp') {
      const peer = await bindPeer();
      cleanup.push(closeSocket(peer.socket));
      const path: Path = { send: (data) => peer.socket.send(data, port, labAddress), inbox: peer.inbox, probeUri, probeVia: peer.local, transport: 'UDP' };
      pathFor = async () => path;
    } else {
      pathFor = async () => {
        const path = await tcpPath({ address: labAddress, port }, probeUri);
        return path;
      };
    }
    const { rows, outcomes } = await runAll('proxy', transport, pathFor, sink.inbox);
    report(`lab (proxy) over ${transport}`, rows);
    expect(rows.filter((r) => r.got !== r.want)).toEqual([]);

    // RFC 4475 §3.1.1.8: the octets after the REGISTER are not part of what is forwarded.
    expect(outcomes.get('dblreq')!.forwarded!.body).toBe('');
    // §3.1.1.1: an unknown header field is forwarded unchanged; §3.3.7: so is an Authorization of an unknown scheme.
    expect(outcomes.get('wsinv')!.forwarded!.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(outcomes.get('regaut01')!.forwarded!.get('authorization')).toBe('NoOneKnowsThisScheme opaque-data=here');

    // And it still works: two phones register and call each other through it.
    const identity = async (user: string, kind: 'udp' | 'tcp', incoming?: (c: SipCall) => void) => {
      const id = await SipIdentity.create({
        aor: { user, domain: `${labAddress}:${lab.sip.ports[kind]}` },
        transport: kind,
        local: { address: '127.0.0.1', port: 0 },
        server: { address: labAddress, port: lab.sip.ports[kind]! },
        sessionDescriptionHandlerFactory: staticSdhFactory(),
        timers,
        ...(incoming ? { onIncomingCall: incoming } : {}),
      });
      cleanup.push(() => id.dispose());
      return id;
    };
    const alice = await identity('alice', transport);
    const bob = await identity('bob', transport, (call) => void call.answer());
    expect(await alice.register()).toBe(200);
    expect(await bob.register()).toBe(200);
    const call = alice.createCall(`sip:bob@${labAddress}:${port}`);
    expect(await call.invite()).toBe(200);
    await call.hangup();
    await call.whenEnded();
  });

  it.each(['udp', 'tcp'] as const)('a phone answers each as a user agent must, over %s, and still registers and answers', async (transport) => {
    const startPhone = async () => {
      const server = await FakeServer.start(transport);
      cleanup.push(() => server.close());
      const phone = new Phone({
        // directCalls: the torture messages come straight to the phone, as from a peer with no server in between
        accounts: [{ id: 'user', user: 'user', server: `sip:127.0.0.1:${server.port}`, transport, answer: { kind: 'reject', status: 486 }, directCalls: true }],
        createSessionDescriptionHandlerFactory: defaultMediaProvider,
        timers,
      });
      cleanup.push(() => phone.shutdown());
      const registration = await phone.register();
      const phonePort = Number(/:(\d+)(?:;|>|$)/.exec(registration.contact!)![1]);
      return { server, phone, phonePort };
    };
    const { server, phone, phonePort } = await startPhone();
    const probeUri = `sip:user@127.0.0.1:${phonePort}`;
    let pathFor: (c: TortureCase) => Promise<Path>;
    if (transport === 'udp') {
      const peer = await bindPeer();
      cleanup.push(closeSocket(peer.socket));
      const path: Path = { send: (data) => peer.socket.send(data, phonePort, '127.0.0.1'), inbox: peer.inbox, probeUri, probeVia: peer.local, transport: 'UDP' };
      pathFor = async () => path;
    } else {
      const connection = (await server.connected())!;
      const path: Path = {
        send: (data) => void connection.write(data),
        inbox: server.inbox,
        probeUri,
        probeVia: { address: '127.0.0.1', port: server.port },
        transport: 'TCP',
      };
      pathFor = async () => path;
    }
    // A message that costs the phone its connection is sent to a phone of its own, after the others.
    const closes = (c: TortureCase) => transport === 'tcp' && (c.stream !== undefined || c.spoilsStream === true);
    const { rows } = await runAll('ua', transport, pathFor, undefined, closes);
    for (const c of rfc4475Cases.filter(closes)) {
      const own = await startPhone();
      const connection = (await own.server.connected())!;
      const gone = new Promise<void>((resolve) => connection.once('close', () => resolve()));
      const path: Path = {
        send: (data) => void connection.write(data),
        inbox: own.server.inbox,
        closed: (ms) => Promise.race([gone.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]),
        probeUri,
        probeVia: { address: '127.0.0.1', port: own.server.port },
        transport: 'TCP',
      };
      const want = expected(c, 'ua', transport);
      rows.push({ name: c.name, section: c.section, want: describeAnswer(want), got: (await exchange(c, path, want)).got });
    }
    report(`phone (user agent) over ${transport}`, rows);
    expect(rows.filter((r) => r.got !== r.want)).toEqual([]);

    // And it still works: it registers again, and a well-formed call reaches its call logic (which rejects it, 486).
    expect((await phone.register()).state).toBe('registered');
    const path = await pathFor(rfc4475Cases[0]!);
    const invite = [
      `INVITE sip:user@127.0.0.1:${phonePort} SIP/2.0`,
      `Via: SIP/2.0/${transport.toUpperCase()} ${path.probeVia.address}:${path.probeVia.port};branch=z9hG4bKafter${transport}`,
      'Max-Forwards: 70',
      'From: <sip:caller@127.0.0.1>;tag=after',
      `To: <sip:user@127.0.0.1:${phonePort}>`,
      'Call-ID: after-the-torture',
      'CSeq: 1 INVITE',
      'Contact: <sip:caller@127.0.0.1:9>',
      'Content-Type: application/sdp',
    ];
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
    path.send(`${invite.join('\r\n')}\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`);
    const answer = await path.inbox.next((m) => m.kind === 'response' && m.status >= 200 && m.callId === 'after-the-torture', 5000);
    expect((answer as SipResponse | undefined)?.status).toBe(486);
  });
});
