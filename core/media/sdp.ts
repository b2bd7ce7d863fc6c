import { MediaError } from './media-error.js';

/** RFC 3264 §5.1 / RFC 4566 §6: the direction attributes. */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface SdpConnection {
  addressType: 'IP4' | 'IP6';
  address: string;
}

export interface SdpRtpMap {
  encoding: string;
  clockRate: number;
  channels?: number;
}

export interface SdpMedia {
  media: string;
  port: number;
  protocol: string;
  formats: string[];
  connection?: SdpConnection;
  direction?: MediaDirection;
  rtpmap: Map<number, SdpRtpMap>;
  fmtp: Map<number, string>;
  ptime?: number;
  /** RFC 3605 `a=rtcp:`; RTP port + 1 when absent. */
  rtcpPort?: number;
  /** RFC 4568 `a=crypto:` values as written, checked when the stream is negotiated (sdes.ts). */
  crypto?: string[];
}

export interface SessionDescription {
  origin: { username: string; sessionId: string; version: string; addressType: 'IP4' | 'IP6'; address: string };
  sessionName: string;
  connection?: SdpConnection;
  direction?: MediaDirection;
  media: SdpMedia[];
}

const maxSdpLength = 16 * 1024;
const maxMedia = 16;
const directions = new Set<MediaDirection>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

function bad(message: string): MediaError {
  return new MediaError('BAD_SDP', message);
}

function parseConnection(value: string): SdpConnection {
  const match = /^IN (IP4|IP6) ([^\s/]+)(?:\/\d+)*$/.exec(value);
  if (!match) throw bad(`malformed c= line "${value.slice(0, 60)}"`);
  return { addressType: match[1] as 'IP4' | 'IP6', address: match[2]! };
}

/** Parse an SDP body (RFC 4566), strictly enough to answer garbage with 488 and loosely enough for real peers. */
export function parseSdp(text: string): SessionDescription {
  if (text.length > maxSdpLength) throw bad(`SDP of ${text.length} bytes is too large`);
  const lines = text.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines[0] !== 'v=0') throw bad('SDP must start with v=0');
  let origin: SessionDescription['origin'] | undefined;
  let sessionName: string | undefined;
  let connection: SdpConnection | undefined;
  let direction: MediaDirection | undefined;
  const media: SdpMedia[] = [];
  for (const line of lines.slice(1)) {
    if (!/^[a-z]=/.test(line)) throw bad(`malformed SDP line "${line.slice(0, 40)}"`);
    const type = line[0]!;
    const value = line.slice(2);
    const current = media[media.length - 1];
    switch (type) {
      case 'o': {
        const parts = value.split(' ');
        if (parts.length !== 6 || parts[3] !== 'IN' || (parts[4] !== 'IP4' && parts[4] !== 'IP6')) throw bad(`malformed o= line "${value.slice(0, 60)}"`);
        origin = { username: parts[0]!, sessionId: parts[1]!, version: parts[2]!, addressType: parts[4], address: parts[5]! };
        break;
      }
      case 's':
        sessionName = value;
        break;
      case 'c':
        if (current) current.connection = parseConnection(value);
        else connection = parseConnection(value);
        break;
      case 'm': {
        if (media.length >= maxMedia) throw bad(`more than ${maxMedia} media descriptions`);
        const match = /^(\w+) (\d{1,5})(?:\/\d+)? ([\w/.-]+)((?: \S+)+)$/.exec(value);
        if (!match || Number(match[2]) > 65535) throw bad(`malformed m= line "${value.slice(0, 60)}"`);
        media.push({ media: match[1]!, port: Number(match[2]), protocol: match[3]!, formats: match[4]!.trim().split(' '), rtpmap: new Map(), fmtp: new Map() });
        break;
      }
      case 'a': {
        const colon = value.indexOf(':');
        const name = colon < 0 ? value : value.slice(0, colon);
        const attr = colon < 0 ? '' : value.slice(colon + 1);
        if (directions.has(name as MediaDirection)) {
          if (current) current.direction = name as MediaDirection;
          else direction = name as MediaDirection;
        } else if (current && name === 'rtpmap') {
          const m = /^(\d{1,3}) ([\w.-]+)\/(\d{1,6})(?:\/(\d{1,2}))?$/.exec(attr);
          if (!m) throw bad(`malformed rtpmap "${attr.slice(0, 60)}"`);
          const map: SdpRtpMap = { encoding: m[2]!, clockRate: Number(m[3]) };
          if (m[4] !== undefined) map.channels = Number(m[4]);
          current.rtpmap.set(Number(m[1]), map);
        } else if (current && name === 'fmtp') {
          const m = /^(\d{1,3}) (.*)$/.exec(attr);
          if (m) current.fmtp.set(Number(m[1]), m[2]!);
        } else if (current && name === 'ptime') {
          const ptime = Number(attr);
          if (Number.isFinite(ptime) && ptime > 0 && ptime <= 1000) current.ptime = ptime;
        } else if (current && name === 'rtcp') {
          const port = Number(attr.split(' ')[0]);
          if (Number.isInteger(port) && port > 0 && port <= 65535) current.rtcpPort = port;
        } else if (current && name === 'crypto') {
          (current.crypto ??= []).push(attr);
        }
        break;
      }
      default:
        break; // b=, t=, k=, i=, u=, e=, p=, z=, r= carry nothing we act on
    }
  }
  if (!origin) throw bad('SDP has no o= line');
  if (sessionName === undefined) throw bad('SDP has no s= line');
  for (const m of media) {
    if (m.port !== 0 && !m.connection && !connection) throw bad(`m=${m.media} has no connection address (c=)`);
  }
  const description: SessionDescription = { origin, sessionName, media };
  if (connection) description.connection = connection;
  if (direction) description.direction = direction;
  return description;
}

/** Write an SDP body with CRLF line ends (RFC 4566 §5). */
export function formatSdp(description: SessionDescription): string {
  const o = description.origin;
  const lines = ['v=0', `o=${o.username} ${o.sessionId} ${o.version} IN ${o.addressType} ${o.address}`, `s=${description.sessionName}`];
  if (description.connection) lines.push(`c=IN ${description.connection.addressType} ${description.connection.address}`);
  lines.push('t=0 0');
  if (description.direction) lines.push(`a=${description.direction}`);
  for (const m of description.media) {
    lines.push(`m=${m.media} ${m.port} ${m.protocol} ${m.formats.join(' ')}`);
    if (m.connection) lines.push(`c=IN ${m.connection.addressType} ${m.connection.address}`);
    for (const [pt, map] of m.rtpmap) lines.push(`a=rtpmap:${pt} ${map.encoding}/${map.clockRate}${map.channels !== undefined ? `/${map.channels}` : ''}`);
    for (const [pt, params] of m.fmtp) lines.push(`a=fmtp:${pt} ${params}`);
    if (m.ptime !== undefined) lines.push(`a=ptime:${m.ptime}`);
    if (m.rtcpPort !== undefined) lines.push(`a=rtcp:${m.rtcpPort}`);
    for (const crypto of m.crypto ?? []) lines.push(`a=crypto:${crypto}`);
    if (m.direction) lines.push(`a=${m.direction}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The direction that applies to a media description (media level, else session level, else sendrecv). */
export function directionOf(description: SessionDescription, media: SdpMedia): MediaDirection {
  return media.direction ?? description.direction ?? 'sendrecv';
}

/** Where to send a media stream: its own c=, else the session's. */
export function connectionOf(description: SessionDescription, media: SdpMedia): SdpConnection | undefined {
  return media.connection ?? description.connection;
}
