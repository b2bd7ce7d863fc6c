import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import type { PhoneEvent } from '../api/phone-types.js';
import { defaultMediaProvider } from './default-media.js';
import { Phone } from './phone.js';
import { SipMutator } from '../../test/support/sip-mutator.js';
import { until } from '../../test/support/until.js';

const portOf = (uri: string): number => Number(/:(\d+)(?:;|$)/.exec(uri)![1]);

/**
 * Thousands of mutated SIP messages at the lab (UDP and TCP) and at a phone: every one is rejected, dropped or
 * answered, each counted; no exception escapes either (vitest fails the run on one), and a call works afterwards.
 * Bounded: a fixed seed, 3000 datagrams and 100 connections. Two bugs it found: a 2xx routed to a Via host the lab
 * cannot reach threw out of the proxy, and a Request-URI sip.js refuses made it throw and left the phone deaf.
 */
describe('malformed traffic at the lab and a phone', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('is rejected and counted, crashes nothing, and a call still works afterwards', async () => {
    // Unsigned: a signing lab drops most forged responses in its signature check, before the routing code under test.
    const lab = await Lab.start({ timers: { t1: 100, t2: 400 } });
    cleanup.push(() => lab.stop());
    const events: PhoneEvent[] = [];
    const phone = (user: string): Phone => {
      const p = new Phone({
        // directCalls: the mutated requests reach sip.js too, not only the stranger check in front of it
        accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' }, directCalls: true }],
        createSessionDescriptionHandlerFactory: defaultMediaProvider,
        timers: { t1: 100, t2: 400 },
      });
      cleanup.push(() => p.shutdown());
      return p;
    };
    const alice = phone('alice');
    const bob = phone('bob');
    alice.subscribe((e) => events.push(e));
    await alice.register();
    const bobPort = portOf((await bob.register()).contact!);
    const labPort = portOf(lab.servers.udp!);

    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
    const seeds = [
      `INVITE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKaaa;rport\r\nMax-Forwards: 70\r\nFrom: "X" <sip:eve@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: fz1\r\nCSeq: 1 INVITE\r\nContact: <sip:eve@127.0.0.1:9>\r\nRecord-Route: <sip:127.0.0.1:9;lr>\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
      `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${labPort};branch=z9hG4bKbbb\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKccc\r\nFrom: <sip:eve@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\nCall-ID: fz2\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.1:9>\r\nRecord-Route: <sip:127.0.0.1:${labPort};lr;vp-rs=1.rse.abcdefgh.hs128.cg.AAAAAAAAAAAAAAAAAAAAAA>\r\nContent-Length: 0\r\n\r\n`,
      // a 2xx on its way back to a caller whose Via names a host: the lab resolves no names (it threw here once)
      `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:${labPort};branch=z9hG4bKggg\r\nVia: SIP/2.0/UDP carol.example.net:5060;branch=z9hG4bKhhh\r\nFrom: <sip:carol@example.net>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\nCall-ID: fz5\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`,
      `REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKddd\r\nMax-Forwards: 70\r\nFrom: <sip:eve@127.0.0.1>;tag=1\r\nTo: <sip:eve@127.0.0.1>\r\nCall-ID: fz3\r\nCSeq: 1 REGISTER\r\nContact: <sip:eve@127.0.0.1:9>;expires=60\r\nContent-Length: 0\r\n\r\n`,
      `BYE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKeee\r\nMax-Forwards: 70\r\nRoute: <sip:127.0.0.1:${labPort};lr;vp-rs=1.rsr.abcdefgh.hs128.cg.AAAAAAAAAAAAAAAAAAAAAA>\r\nFrom: <sip:eve@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>;tag=2\r\nCall-ID: fz4\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n`,
    ];
    const mutator = new SipMutator(20261130);
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    cleanup.push(() => void socket.close());
    for (let i = 0; i < 3000; i++) {
      socket.send(mutator.mutate(mutator.pick(seeds)), i % 2 === 0 ? labPort : bobPort, '127.0.0.1');
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 10)); // paced: the kernel drops no datagram
    }
    const tcpPort = portOf(lab.servers.tcp!);
    for (let c = 0; c < 100; c++) {
      await new Promise<void>((resolve) => {
        const connection = net.connect(tcpPort, '127.0.0.1', () => {
          // several messages back to back, cut at random points: the stream framer sees every boundary
          let data = Buffer.concat(Array.from({ length: 1 + Math.floor(mutator.random() * 4) }, () => mutator.mutate(mutator.pick(seeds))));
          while (data.length > 0) {
            const cut = 1 + Math.floor(mutator.random() * 300);
            connection.write(data.subarray(0, cut));
            data = data.subarray(cut);
          }
          setTimeout(() => (connection.destroy(), resolve()), 5);
        });
        connection.on('error', () => resolve());
      });
    }

    // Everything that arrived was accounted for somewhere.
    const rejectedAtLab = (): number => Object.values(lab.sip.snapshot().rejected).reduce((a, b) => a + b, 0);
    await until(() => rejectedAtLab() > 1000);
    const snapshot = lab.sip.snapshot();
    expect(Object.keys(snapshot.counters.dropped).length).toBeGreaterThan(0);

    // And both still work: a call through the lab, established and ended.
    const call = await alice.call({ target: 'bob' });
    await until(() => events.some((e) => e.type === 'call' && e.call.id === call.id && e.call.state === 'established'), 10_000);
    await alice.hangup(call.id);
    await until(() => events.some((e) => e.type === 'call' && e.call.id === call.id && e.call.state === 'terminated'), 10_000);
  }, 60_000);
});
