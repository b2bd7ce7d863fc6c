import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { serializeRtp } from '../../core/media/rtp-packet.js';
import { SrtpSession } from '../../core/media/srtp-session.js';
import { srtpSuiteNames, type SrtpMasterKey } from '../../core/media/srtp-suite.js';
import { libsrtp, libsrtpMissing, type LibsrtpOp, type LibsrtpResult } from '../support/libsrtp.js';

const skip = libsrtpMissing();

const ssrc = 0x1badcafe;
/** Across the 16-bit wrap, with reordering on both sides of it (RFC 3711 §3.3.1: the ROC must follow). */
const sequences = [65528, 65529, 65531, 65530, 65532, 65533, 65535, 0, 1, 65534, 2, 3, 5, 4, 6, 7, 8, 300, 301, 302];
const payloadSizes = [160, 0, 1, 15, 16, 17, 31, 33, 160, 1200];

function rtpPackets(): Buffer[] {
  const packets = sequences.map((sequence, i) =>
    serializeRtp({ marker: i === 0, payloadType: i % 5 === 4 ? 101 : 0, sequence, timestamp: 0x7fff0000 + i * 160, ssrc, payload: randomBytes(payloadSizes[i % payloadSizes.length]!) }),
  );
  // one with padding, two CSRCs and a header extension (RFC 3550 §5.1, §5.3.1): encryption starts after them
  const header = Buffer.from([0xb2, 0x00, 0x01, 0x2f, 0, 0, 0x10, 0, 0x1b, 0xad, 0xca, 0xfe]); // sequence 303
  packets.push(Buffer.concat([header, randomBytes(8), Buffer.from([0xbe, 0xde, 0, 2]), randomBytes(8), randomBytes(21), Buffer.from([0, 0, 3])]));
  return packets;
}

function rtcpPackets(): Buffer[] {
  const sr = Buffer.alloc(28);
  sr.writeUInt32BE(0x80c80006, 0);
  sr.writeUInt32BE(ssrc, 4);
  randomBytes(20).copy(sr, 8);
  const sdes = Buffer.from([0x81, 0xca, 0x00, 0x03, 0x1b, 0xad, 0xca, 0xfe, 0x01, 0x05, 0x61, 0x62, 0x63, 0x64, 0x65, 0x00]);
  const rr = Buffer.concat([Buffer.from([0x81, 0xc9, 0x00, 0x07, 0x1b, 0xad, 0xca, 0xfe]), randomBytes(24)]);
  const bye = Buffer.from([0x81, 0xcb, 0x00, 0x01, 0x1b, 0xad, 0xca, 0xfe]);
  return [Buffer.concat([sr, sdes]), rr, Buffer.concat([rr, sdes]), rr, Buffer.concat([rr, bye])];
}

const fresh = (): SrtpMasterKey => ({ key: randomBytes(16), salt: randomBytes(14) });
const ok = (results: LibsrtpResult[]): Buffer[] =>
  results.map((r, i) => {
    if (r.error !== undefined) throw new Error(`libsrtp refused packet ${i}: ${r.error}`);
    return r.data;
  });

describe.skipIf(skip).each(srtpSuiteNames)('SRTP and SRTCP against libsrtp (Debian libsrtp2 via pylibsrtp), %s', (suite) => {
  let rtp: Buffer[];
  let rtcp: Buffer[];
  beforeAll(() => {
    rtp = rtpPackets();
    rtcp = rtcpPackets();
  });

  it('our SRTP and SRTCP equal libsrtp\'s byte for byte for the same key, salt, SSRC and sequence numbers', async () => {
    const key = fresh();
    // libsrtp numbers its first SRTCP packet 1 (it counts before sending); RFC 3711 §3.4 reads as 0 — we follow it for this check
    const ours = new SrtpSession({ suite, local: key, remote: key, firstSrtcpIndex: 1 });
    const oursRtp = rtp.map((p) => ours.protectRtp(p));
    const oursRtcp = rtcp.map((p) => ours.protectRtcp(p));
    expect(ours.rolloverCounter('send', ssrc)).toBe(1);
    const theirs = ok(await libsrtp(suite, key.key, key.salt, [...rtp.map((data) => ({ op: 'protect' as const, data })), ...rtcp.map((data) => ({ op: 'protect_rtcp' as const, data }))]));
    expect(theirs).toHaveLength(rtp.length + rtcp.length);
    for (const [i, packet] of oursRtp.entries()) expect(packet.toString('hex'), `RTP #${i} (sequence ${packet.readUInt16BE(2)})`).toBe(theirs[i]!.toString('hex'));
    for (const [i, packet] of oursRtcp.entries()) expect(packet.toString('hex'), `RTCP #${i}`).toBe(theirs[rtp.length + i]!.toString('hex'));
  });

  it('in a call each way: libsrtp decrypts what we send (SRTCP from index 0), we decrypt what libsrtp sends', async () => {
    const ourKey = fresh();
    const theirKey = fresh();
    const ours = new SrtpSession({ suite, local: ourKey, remote: theirKey });
    const sent = [...rtp.map((p) => ({ op: 'unprotect' as const, data: ours.protectRtp(p) })), ...rtcp.map((p) => ({ op: 'unprotect_rtcp' as const, data: ours.protectRtcp(p) }))];
    const decrypted = ok(await libsrtp(suite, ourKey.key, ourKey.salt, sent));
    expect(decrypted.map((d) => d.toString('hex'))).toEqual([...rtp, ...rtcp].map((p) => p.toString('hex')));

    const fromLibsrtp = ok(await libsrtp(suite, theirKey.key, theirKey.salt, [...rtp.map((data) => ({ op: 'protect' as const, data })), ...rtcp.map((data) => ({ op: 'protect_rtcp' as const, data }))]));
    const received = fromLibsrtp.map((packet, i) => (i < rtp.length ? ours.unprotectRtp(packet) : ours.unprotectRtcp(packet)));
    expect(received.map((r) => (r.ok ? r.packet.toString('hex') : r.error.code))).toEqual([...rtp, ...rtcp].map((p) => p.toString('hex')));
    expect(ours.rolloverCounter('receive', ssrc)).toBe(1);
    expect(ours.stats()).toMatchObject({ receivedRtp: rtp.length, receivedRtcp: rtcp.length, rejected: {} });
  });

  it('both refuse the same tampered, replayed and too-old packets', async () => {
    const key = fresh();
    const sender = new SrtpSession({ suite, local: key, remote: key });
    const wire = Array.from({ length: 200 }, (_, i) => sender.protectRtp(serializeRtp({ marker: false, payloadType: 0, sequence: 1000 + i, timestamp: i * 160, ssrc, payload: randomBytes(160) })));
    const srtcp = rtcp.map((p) => sender.protectRtcp(p));
    const tampered = (packet: Buffer, at: number): Buffer => {
      const copy = Buffer.from(packet);
      copy[at]! ^= 0x04;
      return copy;
    };
    const plan: Array<{ op: LibsrtpOp; data: Buffer; expect: string }> = [
      { op: 'unprotect', data: wire[0]!, expect: 'ok' },
      { op: 'unprotect', data: wire[0]!, expect: 'REPLAYED' },
      { op: 'unprotect', data: tampered(wire[1]!, 40), expect: 'AUTH_FAILED' }, // payload
      { op: 'unprotect', data: tampered(wire[1]!, wire[1]!.length - 1), expect: 'AUTH_FAILED' }, // tag
      { op: 'unprotect', data: tampered(wire[1]!, 5), expect: 'AUTH_FAILED' }, // timestamp in the header
      { op: 'unprotect', data: wire[1]!, expect: 'ok' },
      ...wire.slice(3, 200).map((data) => ({ op: 'unprotect' as const, data, expect: 'ok' })),
      { op: 'unprotect', data: wire[2]!, expect: 'TOO_OLD' }, // never seen, but 197 behind: outside both 128-packet windows
      { op: 'unprotect_rtcp', data: srtcp[0]!, expect: 'ok' },
      { op: 'unprotect_rtcp', data: srtcp[0]!, expect: 'REPLAYED' },
      { op: 'unprotect_rtcp', data: tampered(srtcp[1]!, 12), expect: 'AUTH_FAILED' }, // encrypted part
      { op: 'unprotect_rtcp', data: tampered(srtcp[1]!, srtcp[1]!.length - 14), expect: 'AUTH_FAILED' }, // the E flag
      { op: 'unprotect_rtcp', data: srtcp[1]!, expect: 'ok' },
    ];
    const receiver = new SrtpSession({ suite, local: fresh(), remote: key });
    const oursSaid = plan.map((step) => {
      const result = step.op === 'unprotect' ? receiver.unprotectRtp(Buffer.from(step.data)) : receiver.unprotectRtcp(Buffer.from(step.data));
      return result.ok ? 'ok' : result.error.code;
    });
    expect(oursSaid).toEqual(plan.map((step) => step.expect));

    const libsrtpSaid = (await libsrtp(suite, key.key, key.salt, plan)).map((r) => r.error ?? 'ok');
    const libsrtpWords: Record<string, string> = {
      ok: 'ok',
      REPLAYED: 'replay check failed (bad index)',
      TOO_OLD: 'replay check failed (index too old)',
      AUTH_FAILED: 'authentication failure',
    };
    expect(libsrtpSaid).toEqual(plan.map((step) => libsrtpWords[step.expect]));
    expect(receiver.stats().rejected).toEqual({ REPLAYED: 2, AUTH_FAILED: 5, TOO_OLD: 1 });
  });
});
