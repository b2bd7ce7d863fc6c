import type { CallLogDetail } from './call-log-types.js';

/** One address and port a side of a call used, and what for. */
export interface CallEndpoint {
  side: 'local' | 'remote';
  /** `sip` (signaling socket) or `rtp` (media, from the SDP or the negotiated session). */
  kind: 'sip' | 'rtp';
  /** `address:port`, IPv6 in brackets. */
  endpoint: string;
  /** `udp`, `tcp`, `ws` for SIP; `RTP/AVP` for media. */
  transport: string;
  /** How many messages went through it (SIP), or where it was learned (`SDP`, `session`). */
  note: string;
}

/** RFC 4566 §5.7 `c=` and §5.14 `m=audio`: the address and port a side offered for audio. */
function sdpAudio(raw: string): string | undefined {
  const body = raw.indexOf('\r\n\r\n');
  if (body < 0) return undefined;
  const sdp = raw.slice(body + 4);
  const media = /^m=audio[ \t]+(\d+)[ \t]+(\S+)/m.exec(sdp);
  if (!media || media[1] === '0') return undefined;
  const mediaSection = sdp.slice(media.index);
  const connection = /^c=IN[ \t]+IP[46][ \t]+([^\s/]+)/m.exec(mediaSection) ?? /^c=IN[ \t]+IP[46][ \t]+([^\s/]+)/m.exec(sdp);
  if (!connection) return undefined;
  const address = connection[1]!;
  return address.includes(':') ? `[${address}]:${media[1]}` : `${address}:${media[1]}`;
}

/**
 * The addresses and ports each side of a call used: our SIP sockets and the peers they talked to (from the trace),
 * and the RTP addresses both sides offered (SDP) or negotiated (the call row). Order: local first, SIP before RTP.
 */
export function callEndpoints(call: CallLogDetail): CallEndpoint[] {
  const out: CallEndpoint[] = [];
  const sip = new Map<string, { side: 'local' | 'remote'; transport: string; count: number }>();
  for (const message of call.messages) {
    for (const [side, endpoint] of [
      ['local', message.local],
      ['remote', message.remote],
    ] as const) {
      const key = `${side} ${endpoint} ${message.transport}`;
      const entry = sip.get(key) ?? { side, transport: message.transport, count: 0 };
      entry.count++;
      sip.set(key, entry);
    }
  }
  for (const [key, entry] of sip) out.push({ side: entry.side, kind: 'sip', endpoint: key.split(' ')[1]!, transport: entry.transport, note: `${entry.count} messages` });
  const rtp = new Map<string, CallEndpoint>();
  const addRtp = (side: 'local' | 'remote', endpoint: string | undefined, note: string): void => {
    if (endpoint === undefined || rtp.has(`${side} ${endpoint}`)) return;
    rtp.set(`${side} ${endpoint}`, { side, kind: 'rtp', endpoint, transport: 'RTP/AVP', note });
  };
  addRtp('local', call.localRtp, 'session');
  addRtp('remote', call.remoteRtp, 'session');
  for (const message of call.messages) addRtp(message.dir === 'out' ? 'local' : 'remote', sdpAudio(message.raw), 'SDP');
  out.push(...rtp.values());
  const rank = (e: CallEndpoint): number => (e.side === 'local' ? 0 : 2) + (e.kind === 'sip' ? 0 : 1);
  return out.sort((a, b) => rank(a) - rank(b));
}
