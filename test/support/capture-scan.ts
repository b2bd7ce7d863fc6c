import { isIP } from 'node:net';
import { tcpStreams, webSocketPayloads, type CapturedPacket } from './pcap-reader.js';

/** A SIP message as it crossed a link: its text and where it went. */
export interface CapturedSip {
  at: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  raw: string;
  callId: string | undefined;
}

/** An RTP or RTCP packet as it crossed a link. */
export interface CapturedMedia {
  at: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  kind: 'rtp' | 'rtcp';
  payload: Buffer;
  ssrc: number;
  /** RTCP: the CNAME items of its SDES chunks (RFC 3550 §6.5.1). */
  cnames: string[];
}

const sipStart = /^(?:[A-Z]+ \S+ SIP\/2\.0\r\n|SIP\/2\.0 \d{3} )/;

/** Every SIP message in a capture: UDP datagrams, TCP streams split by Content-Length, WebSocket frames. */
export function sipMessages(packets: CapturedPacket[]): CapturedSip[] {
  const out: CapturedSip[] = [];
  const add = (p: { at: number; src: string; srcPort: number; dst: string; dstPort: number }, raw: string): void => {
    if (sipStart.test(raw)) out.push({ ...p, raw, callId: /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(raw)?.[1] });
  };
  for (const p of packets) if (p.protocol === 'udp') add(p, p.payload.toString('latin1'));
  for (const stream of tcpStreams(packets)) {
    const at = packets.find((p) => p.protocol === 'tcp' && p.src === stream.src && p.srcPort === stream.srcPort)?.at ?? 0;
    const text = stream.data.toString('latin1');
    const chunks = /^(GET |HTTP\/1\.1 101)/.test(text) ? webSocketPayloads(stream.data).map((b) => b.toString('latin1')) : splitStream(text);
    for (const raw of chunks) add({ at, ...stream }, raw);
  }
  return out.sort((a, b) => a.at - b.at);
}

/** SIP over a byte stream: each message ends after its Content-Length of body (RFC 3261 §18.3); CRLF keep-alives between. */
function splitStream(text: string): string[] {
  const messages: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    rest = rest.replace(/^(?:\r\n)+/, '');
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const length = Number(/^(?:Content-Length|l)[ \t]*:[ \t]*(\d+)/im.exec(rest.slice(0, end))?.[1] ?? 0);
    messages.push(rest.slice(0, end + 4 + length));
    rest = rest.slice(end + 4 + length);
  }
  return messages;
}

/** RTP (RFC 3550 §5.1) and RTCP (§6.4) packets among a capture's UDP datagrams that are not SIP. */
export function mediaPackets(packets: CapturedPacket[]): CapturedMedia[] {
  const out: CapturedMedia[] = [];
  for (const p of packets) {
    if (p.protocol !== 'udp' || p.payload.length < 8 || p.payload[0]! >> 6 !== 2) continue;
    const type = p.payload[1]!;
    if (type >= 200 && type <= 204) {
      out.push({ at: p.at, src: p.src, srcPort: p.srcPort, dst: p.dst, dstPort: p.dstPort, kind: 'rtcp', payload: p.payload, ssrc: p.payload.readUInt32BE(4), cnames: rtcpCnames(p.payload) });
    } else if (p.payload.length >= 12) {
      out.push({ at: p.at, src: p.src, srcPort: p.srcPort, dst: p.dst, dstPort: p.dstPort, kind: 'rtp', payload: p.payload, ssrc: p.payload.readUInt32BE(8), cnames: [] });
    }
  }
  return out;
}

function rtcpCnames(compound: Buffer): string[] {
  const names: string[] = [];
  for (let offset = 0; offset + 4 <= compound.length; ) {
    const length = (compound.readUInt16BE(offset + 2) + 1) * 4;
    if (compound[offset + 1] === 202) {
      const count = compound[offset]! & 0x1f;
      let at = offset + 4;
      for (let chunk = 0; chunk < count && at + 4 <= offset + length; chunk++) {
        at += 4; // SSRC/CSRC
        while (at < offset + length && compound[at] !== 0) {
          const item = compound[at]!;
          const itemLength = compound[at + 1]!;
          if (item === 1) names.push(compound.subarray(at + 2, at + 2 + itemLength).toString('utf8'));
          at += 2 + itemLength;
        }
        at = (at + 4) & ~3; // the null item and padding to a word
      }
    }
    offset += length;
  }
  return names;
}

/** An IP address in one canonical text (RFC 5952 for IPv6), for comparing addresses however they were written. */
export function canonicalAddress(text: string): string | undefined {
  const bare = text.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) return undefined;
  try {
    return new URL(`http://[${bare}]/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

/** Every IPv4 and IPv6 address written anywhere in a text, canonical. */
export function addressesIn(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g)) {
    const a = canonicalAddress(m[0]);
    if (a) found.add(a);
  }
  for (const m of text.matchAll(/[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[\w.]+)?/g)) {
    const a = canonicalAddress(m[0].replace(/%.*$/, ''));
    if (a) found.add(a);
  }
  return [...found];
}

/** Who the caller is: what must never reach the callee of an anonymous call. */
export interface CallerSecrets {
  /** Texts, matched case-insensitively: user name, display name, domain, host name. */
  words: string[];
  /** Addresses (any spelling is found). */
  addresses: string[];
  /** Link-layer address, `aa:bb:cc:dd:ee:ff`: found with colons, dashes, dots, bare, and as raw bytes. */
  mac?: string;
}

/** Where a payload names the caller: one line per finding. */
export function findSecrets(payload: Buffer, secrets: CallerSecrets): string[] {
  const text = payload.toString('latin1');
  const lower = text.toLowerCase();
  const found: string[] = [];
  for (const word of secrets.words) if (word.length > 0 && lower.includes(word.toLowerCase())) found.push(`"${word}"`);
  const wanted = new Set(secrets.addresses.map((a) => canonicalAddress(a)).filter((a): a is string => a !== undefined));
  for (const address of addressesIn(text)) if (wanted.has(address)) found.push(`address ${address}`);
  if (secrets.mac) {
    const hex = secrets.mac.toLowerCase().split(/[:-]/);
    const spellings = [hex.join(':'), hex.join('-'), hex.join(''), `${hex[0]}${hex[1]}.${hex[2]}${hex[3]}.${hex[4]}${hex[5]}`];
    for (const s of spellings) if (lower.includes(s)) found.push(`MAC ${s}`);
    if (payload.includes(Buffer.from(hex.join(''), 'hex'))) found.push('MAC (raw bytes)');
    const eui = eui64(secrets.mac);
    if (lower.includes(eui.replace(/:/g, '')) || lower.includes(eui)) found.push(`EUI-64 ${eui}`);
  }
  return found;
}

/** The modified EUI-64 interface ID of a MAC (RFC 4291 appendix A), `xxxx:xxff:fexx:xxxx`. */
export function eui64(mac: string): string {
  const b = mac.split(/[:-]/).map((h) => parseInt(h, 16));
  const bytes = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  return [0, 2, 4, 6].map((i) => ((bytes[i]! << 8) | bytes[i + 1]!).toString(16).padStart(4, '0')).join(':');
}

/** The length of the longest common prefix of two texts. */
export function commonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}
