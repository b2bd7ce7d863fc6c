/**
 * A small reader for the captures tcpdump writes (libpcap 2.4, Ethernet or Linux cooked framing), written for tests
 * that judge what crossed a link from the outside: every UDP datagram and every TCP segment's payload, with the
 * addresses and ports it carried. TCP payloads are also joined per direction in sequence order (a string split across
 * two segments is still found), ignoring retransmitted bytes.
 */
export interface CapturedPacket {
  at: number;
  protocol: 'udp' | 'tcp';
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  /** TCP only: the sequence number of the payload's first byte. */
  seq?: number;
  /** TCP only: the flags, by their RFC 9293 §3.1 names (`SYN`, `ACK`, `FIN`, `RST`, `PSH`, `URG`). */
  tcpFlags?: string[];
  /** The link-layer source (Ethernet framing), e.g. `02:aa:bb:cc:dd:ee`. */
  srcMac?: string;
}

export interface TcpStream {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  data: Buffer;
}

/**
 * IP fragments waiting for the rest of their datagram (RFC 8200 §4.5, RFC 791): a SIP message over UDP larger than the
 * link's MTU crosses it in pieces.
 */
class Reassembly {
  private readonly pending = new Map<string, { parts: Array<{ offset: number; data: Buffer }>; total?: number; next: number }>();

  /** The whole payload once every piece is in, else undefined. */
  add(key: string, offset: number, more: boolean, data: Buffer, next: number): { data: Buffer; next: number } | undefined {
    const entry = this.pending.get(key) ?? { parts: [], next };
    if (offset === 0) entry.next = next;
    entry.parts.push({ offset, data });
    if (!more) entry.total = offset + data.length;
    this.pending.set(key, entry);
    if (entry.total === undefined) return undefined;
    const whole = Buffer.alloc(entry.total);
    let covered = 0;
    for (const part of entry.parts.sort((a, b) => a.offset - b.offset)) {
      if (part.offset > covered) return undefined;
      part.data.copy(whole, part.offset);
      covered = Math.max(covered, part.offset + part.data.length);
    }
    if (covered < entry.total) return undefined;
    this.pending.delete(key);
    return { data: whole, next: entry.next };
  }
}

export function readPcap(file: Buffer): CapturedPacket[] {
  const fragments = new Reassembly();
  const magic = file.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && file.readUInt32BE(0) !== 0xa1b2c3d4 && file.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const nanos = (le ? file.readUInt32LE(0) : file.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20);
  const packets: CapturedPacket[] = [];
  for (let offset = 24; offset + 16 <= file.length; ) {
    const seconds = u32(offset);
    const fraction = u32(offset + 4);
    const captured = u32(offset + 8);
    const frame = file.subarray(offset + 16, offset + 16 + captured);
    offset += 16 + captured;
    const at = seconds * 1000 + (nanos ? fraction / 1e6 : fraction / 1e3);
    let etherType: number;
    let l3: Buffer;
    let srcMac: string | undefined;
    if (linkType === 1) {
      if (frame.length < 14) continue;
      srcMac = [...frame.subarray(6, 12)].map((b) => b.toString(16).padStart(2, '0')).join(':');
      etherType = frame.readUInt16BE(12);
      l3 = frame.subarray(14);
    } else if (linkType === 113) {
      etherType = frame.readUInt16BE(14);
      l3 = frame.subarray(16);
    } else {
      throw new Error(`link type ${linkType} is not read here`);
    }
    const packet = etherType === 0x0800 ? ipv4(l3, fragments) : etherType === 0x86dd ? ipv6(l3, fragments) : undefined;
    if (packet) packets.push({ ...packet, at, ...(srcMac !== undefined ? { srcMac } : {}) });
  }
  return packets;
}

type L3 = Omit<CapturedPacket, 'at' | 'srcMac'>;

function ipv4(data: Buffer, fragments: Reassembly): L3 | undefined {
  if (data.length < 20) return undefined;
  const headerLength = (data[0]! & 0x0f) * 4;
  const total = data.readUInt16BE(2);
  const protocol = data[9]!;
  const src = [...data.subarray(12, 16)].join('.');
  const dst = [...data.subarray(16, 20)].join('.');
  const flags = data.readUInt16BE(6);
  const more = (flags & 0x2000) !== 0;
  const offset = (flags & 0x1fff) * 8;
  const payload = data.subarray(headerLength, total);
  if (!more && offset === 0) return transport(protocol, 4, src, dst, payload);
  const whole = fragments.add(`4 ${src} ${dst} ${data.readUInt16BE(4)} ${protocol}`, offset, more, Buffer.from(payload), protocol);
  return whole ? transport(protocol, 4, src, dst, whole.data) : undefined;
}

function ipv6(data: Buffer, fragments: Reassembly): L3 | undefined {
  if (data.length < 40) return undefined;
  let next = data[6]!;
  const src = ipv6Text(data.subarray(8, 24));
  const dst = ipv6Text(data.subarray(24, 40));
  let rest = data.subarray(40, 40 + data.readUInt16BE(4));
  // hop-by-hop, routing, destination options: skip to the transport header
  while ((next === 0 || next === 43 || next === 60) && rest.length >= 8) {
    const length = (rest[1]! + 1) * 8;
    next = rest[0]!;
    rest = rest.subarray(length);
  }
  if (next === 44 && rest.length >= 8) {
    // the Fragment header: next header, offset in 8-byte units, M flag, identification
    const field = rest.readUInt16BE(2);
    const whole = fragments.add(`6 ${src} ${dst} ${rest.readUInt32BE(4)}`, field & 0xfff8, (field & 1) === 1, Buffer.from(rest.subarray(8)), rest[0]!);
    return whole ? transport(whole.next, 6, src, dst, whole.data) : undefined;
  }
  return transport(next, 6, src, dst, rest);
}

function transport(protocol: number, family: 4 | 6, src: string, dst: string, data: Buffer): L3 | undefined {
  if (protocol === 17 && data.length >= 8) {
    return { protocol: 'udp', family, src, dst, srcPort: data.readUInt16BE(0), dstPort: data.readUInt16BE(2), payload: data.subarray(8, data.readUInt16BE(4)) };
  }
  if (protocol === 6 && data.length >= 20) {
    const offset = (data[12]! >> 4) * 4;
    return { protocol: 'tcp', family, src, dst, srcPort: data.readUInt16BE(0), dstPort: data.readUInt16BE(2), seq: data.readUInt32BE(4), tcpFlags: tcpFlagNames(data[13]!), payload: data.subarray(offset) };
  }
  return undefined;
}

/** RFC 5952 text of an IPv6 address: lower case, the longest run of zero groups (two or more) as `::`. */
export function ipv6Text(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** TCP payloads joined per direction of each connection, in sequence order, each byte once. */
export function tcpStreams(packets: CapturedPacket[]): TcpStream[] {
  const byFlow = new Map<string, CapturedPacket[]>();
  for (const p of packets) {
    if (p.protocol !== 'tcp' || p.payload.length === 0) continue;
    const key = `${p.src} ${p.srcPort} ${p.dst} ${p.dstPort}`;
    (byFlow.get(key) ?? byFlow.set(key, []).get(key)!).push(p);
  }
  const streams: TcpStream[] = [];
  for (const segments of byFlow.values()) {
    const base = segments[0]!.seq!;
    const rel = (p: CapturedPacket): number => (p.seq! - base) >>> 0;
    segments.sort((a, b) => rel(a) - rel(b));
    const parts: Buffer[] = [];
    let next = 0;
    for (const segment of segments) {
      const start = rel(segment);
      const end = start + segment.payload.length;
      if (end <= next) continue; // retransmitted
      parts.push(segment.payload.subarray(Math.max(0, next - start)));
      next = end;
    }
    const first = segments[0]!;
    streams.push({ src: first.src, srcPort: first.srcPort, dst: first.dst, dstPort: first.dstPort, data: Buffer.concat(parts) });
  }
  return streams;
}

/** The payloads of a WebSocket byte stream (RFC 6455 §5.2), masked or not, after its HTTP handshake. */
export function webSocketPayloads(stream: Buffer): Buffer[] {
  const headerEnd = stream.indexOf('\r\n\r\n');
  let offset = stream.subarray(0, 4).toString() === 'GET ' || stream.subarray(0, 5).toString() === 'HTTP/' ? headerEnd + 4 : 0;
  const out: Buffer[] = [];
  while (offset + 2 <= stream.length) {
    const masked = (stream[offset + 1]! & 0x80) !== 0;
    let length = stream[offset + 1]! & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      length = stream.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      length = Number(stream.readBigUInt64BE(at));
      at += 8;
    }
    const mask = masked ? stream.subarray(at, at + 4) : undefined;
    if (masked) at += 4;
    const payload = Buffer.from(stream.subarray(at, at + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
    out.push(payload);
    offset = at + length;
  }
  return out;
}

/** RFC 9293 §3.1: the control bits in the TCP header's 14th byte, lowest first. */
function tcpFlagNames(bits: number): string[] {
  return ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'].filter((_, i) => bits & (1 << i));
}
