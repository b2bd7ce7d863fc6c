import { describe, expect, it } from 'vitest';
import type { TraceMessage } from '../api/call-log-types.js';
import { ipv6Bytes, PcapExportError, tracesToPcap } from './pcap-export.js';

const invite = 'INVITE sip:bob@127.0.0.1 SIP/2.0\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';
const ok = 'SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n';

function message(seq: number, dir: 'in' | 'out', raw: string, local = '127.0.0.1:5062', remote = '127.0.0.1:5060', at = 1_700_000_000_123 + seq): TraceMessage {
  return { seq, dir, at, transport: 'udp', local, remote, raw };
}

/** Minimal reader for what we wrote: enough to check every field that tools rely on. */
function readPcap(data: Buffer): Array<{ sec: number; usec: number; ethertype: number; src: string; dst: string; sport: number; dport: number; payload: string; ipChecksumOk: boolean }> {
  expect(data.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(data.readUInt32LE(20)).toBe(1);
  const out = [];
  for (let offset = 24; offset < data.length; ) {
    const sec = data.readUInt32LE(offset);
    const usec = data.readUInt32LE(offset + 4);
    const length = data.readUInt32LE(offset + 8);
    const frame = data.subarray(offset + 16, offset + 16 + length);
    const ethertype = frame.readUInt16BE(12);
    const ip = frame.subarray(14);
    let src: string;
    let dst: string;
    let udp: Buffer;
    let ipChecksumOk = true;
    if (ethertype === 0x0800) {
      src = [...ip.subarray(12, 16)].join('.');
      dst = [...ip.subarray(16, 20)].join('.');
      udp = ip.subarray(20);
      let sum = 0;
      for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      ipChecksumOk = sum === 0xffff;
    } else {
      src = ip.subarray(8, 24).toString('hex');
      dst = ip.subarray(24, 40).toString('hex');
      udp = ip.subarray(40);
    }
    out.push({ sec, usec, ethertype, src, dst, sport: udp.readUInt16BE(0), dport: udp.readUInt16BE(2), payload: udp.subarray(8).toString(), ipChecksumOk });
    offset += 16 + length;
  }
  return out;
}

describe('tracesToPcap', () => {
  it('writes each message as a UDP datagram from sender to receiver at its time', () => {
    const frames = readPcap(tracesToPcap([message(0, 'out', invite), message(1, 'in', ok)]));
    expect(frames).toHaveLength(2);
    expect(frames[0]).toMatchObject({ sec: 1_700_000_000, usec: 123_000, ethertype: 0x0800, src: '127.0.0.1', sport: 5062, dst: '127.0.0.1', dport: 5060, payload: invite, ipChecksumOk: true });
    expect(frames[1]).toMatchObject({ sport: 5060, dport: 5062, payload: ok });
  });

  it('writes IPv6 frames for IPv6 endpoints (a one-time address shows as itself)', () => {
    const frames = readPcap(tracesToPcap([message(0, 'out', invite, '[2001:db8::a1b2:c3d4:e5f6:789]:5062', '[2001:db8::1]:5060')]));
    expect(frames[0]).toMatchObject({ ethertype: 0x86dd, src: '20010db800000000a1b2c3d4e5f60789', sport: 5062, dport: 5060 });
  });

  it('rejects endpoints that are not address:port with a typed error', () => {
    expect(() => tracesToPcap([message(0, 'out', invite, 'localhost:5060')])).toThrow(PcapExportError);
    expect(() => tracesToPcap([message(0, 'out', invite, '127.0.0.1:5060', '[::1]:5060')])).toThrow(/IPv4 and IPv6/);
  });

  it('expands IPv6 text forms', () => {
    expect(ipv6Bytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
    expect(ipv6Bytes('fe80::1:2').toString('hex')).toBe('fe800000000000000000000000010002');
    expect(ipv6Bytes('::ffff:10.0.0.1').toString('hex')).toBe('00000000000000000000ffff0a000001');
  });
});
