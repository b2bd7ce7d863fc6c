import { isIP } from 'node:net';
import type { TraceMessage } from '../api/call-log-types.js';
import { redactTrace } from './trace-redaction.js';

/** pcap (libpcap 2.4, microsecond timestamps) with Ethernet framing: what Wireshark, tshark and sngrep all read. */
const linktypeEthernet = 1;
const maxUdpPayload = 65_507;

export class PcapExportError extends Error {
  override readonly name = 'PcapExportError';
  constructor(
    readonly code: 'BAD_ENDPOINT' | 'MIXED_FAMILIES',
    message: string,
  ) {
    super(message);
  }
}

export interface Endpoint {
  address: string;
  port: number;
  family: 4 | 6;
}

/** `127.0.0.1:5060` or `[2001:db8::1]:5060`. */
export function parseTraceEndpoint(text: string): Endpoint {
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([0-9.]+):(\d{1,5})$/.exec(text);
  const family = match ? isIP(match[1]!) : 0;
  if (!match || family === 0 || Number(match[2]) > 65535) throw new PcapExportError('BAD_ENDPOINT', `not an address:port: "${text.slice(0, 80)}"`);
  return { address: match[1]!, port: Number(match[2]), family: family as 4 | 6 };
}

/**
 * The SIP messages of one or more calls as UDP datagrams between their real addresses and ports, at the times they
 * crossed the socket, whatever transport carried them (so `sngrep -I` and Wireshark show the dialogs). A message too
 * large for one UDP datagram is written truncated (its original length recorded), which both tools accept. Secrets are
 * masked (trace-redaction.ts) to their own length in bodies, so each message's Content-Length still matches its body.
 */
export function tracesToPcap(messages: readonly TraceMessage[]): Buffer {
  return udpFramesToPcap(
    [...messages]
      .sort((a, b) => a.at - b.at || a.seq - b.seq)
      .map((message) => {
        const local = parseTraceEndpoint(message.local);
        const remote = parseTraceEndpoint(message.remote);
        if (local.family !== remote.family) throw new PcapExportError('MIXED_FAMILIES', `message ${message.seq} goes between IPv${local.family} and IPv${remote.family}`);
        const [src, dst] = message.dir === 'out' ? [local, remote] : [remote, local];
        return { atMicros: message.at * 1000, src, dst, payload: Buffer.from(redactTrace(message.raw), 'utf8') };
      }),
  );
}

/** One UDP datagram for a capture: endpoints as parsed by parseTraceEndpoint, time in microseconds since the epoch. */
export interface UdpFrame {
  atMicros: number;
  src: Endpoint;
  dst: Endpoint;
  payload: Uint8Array;
}

/** UDP datagrams (any payload: SIP text, RTP) as a pcap file, in the order given. */
export function udpFramesToPcap(frames: readonly UdpFrame[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeInt32LE(0, 8);
  header.writeUInt32LE(0, 12);
  header.writeUInt32LE(262_144, 16);
  header.writeUInt32LE(linktypeEthernet, 20);
  const records: Buffer[] = [header];
  let ipId = 1;
  for (const { atMicros, src, dst, payload: data } of frames) {
    const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const frame = ethernetFrame(src, dst, payload.subarray(0, maxUdpPayload), ipId++ & 0xffff);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(Math.floor(atMicros / 1_000_000), 0);
    record.writeUInt32LE(Math.floor(atMicros % 1_000_000), 4);
    record.writeUInt32LE(frame.length, 8);
    record.writeUInt32LE(frame.length + Math.max(0, payload.length - maxUdpPayload), 12);
    records.push(record, frame);
  }
  return Buffer.concat(records);
}

function ethernetFrame(src: Endpoint, dst: Endpoint, payload: Buffer, id: number): Buffer {
  const udp = udpDatagram(src, dst, payload);
  const ip = src.family === 4 ? ipv4Header(src.address, dst.address, udp.length, id) : ipv6Header(src.address, dst.address, udp.length);
  const ethernet = Buffer.alloc(14);
  macFor(dst.address).copy(ethernet, 0);
  macFor(src.address).copy(ethernet, 6);
  ethernet.writeUInt16BE(src.family === 4 ? 0x0800 : 0x86dd, 12);
  return Buffer.concat([ethernet, ip, udp]);
}

function udpDatagram(src: Endpoint, dst: Endpoint, payload: Buffer): Buffer {
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(src.port, 0);
  udp.writeUInt16BE(dst.port, 2);
  udp.writeUInt16BE(udp.length, 4);
  payload.copy(udp, 8);
  // RFC 768: the checksum covers a pseudo-header; optional over IPv4, mandatory over IPv6 (RFC 8200 §8.1).
  const pseudo = src.family === 4 ? Buffer.concat([ipv4Bytes(src.address), ipv4Bytes(dst.address), Buffer.from([0, 17, udp.length >> 8, udp.length & 0xff])]) : ipv6Pseudo(src.address, dst.address, udp.length);
  const sum = checksum(Buffer.concat([pseudo, udp]));
  udp.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return udp;
}

function ipv4Header(src: string, dst: string, udpLength: number, id: number): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + udpLength, 2);
  ip.writeUInt16BE(id, 4);
  ip.writeUInt16BE(0x4000, 6); // don't fragment
  ip[8] = 64;
  ip[9] = 17;
  ipv4Bytes(src).copy(ip, 12);
  ipv4Bytes(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  return ip;
}

function ipv6Header(src: string, dst: string, udpLength: number): Buffer {
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(udpLength, 4);
  ip[6] = 17;
  ip[7] = 64;
  ipv6Bytes(src).copy(ip, 8);
  ipv6Bytes(dst).copy(ip, 24);
  return ip;
}

function ipv6Pseudo(src: string, dst: string, length: number): Buffer {
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(length, 0);
  tail[7] = 17;
  return Buffer.concat([ipv6Bytes(src), ipv6Bytes(dst), tail]);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

export function ipv6Bytes(address: string): Buffer {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

/** A locally administered MAC derived from the address, so each host keeps one MAC across the capture. */
function macFor(address: string): Buffer {
  const bytes = address.includes(':') ? ipv6Bytes(address).subarray(12) : ipv4Bytes(address);
  return Buffer.from([0x02, 0x00, ...bytes]);
}

/** RFC 1071 Internet checksum. */
function checksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2 === 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
