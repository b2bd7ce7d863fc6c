import dns from 'node:dns';
import { isIP } from 'node:net';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * The `lookup` of a datagram socket (`dgram.createSocket({ lookup })`): an IP literal is answered at once, so `send`
 * hands the datagram to the kernel before the code after it runs. Node's default (dns.lookup) answers even a literal
 * a tick later, so a 100 Trying waited behind all the synchronous work that followed it, the 180 included, and every
 * RTP packet paid a tick. A name still goes to dns.lookup.
 */
export function datagramLookup(hostname: string, options: dns.LookupOneOptions | number, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  if (typeof options === 'number') dns.lookup(hostname, options, callback);
  else dns.lookup(hostname, options, callback);
}

/**
 * The `lookup` of a media socket: IP literals only, answered as datagramLookup does; a name is refused at once, never
 * resolved. Where RTP goes comes from the peer's SDP (core/media/sdp-negotiation.ts takes only literals there): a name
 * looked up per packet would tell the peer's DNS server when the call was answered. Refused, the send fails.
 */
export function mediaLookup(hostname: string, options: dns.LookupOneOptions | number, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  const refused: NodeJS.ErrnoException = new Error(`media is sent to address literals only, not to "${hostname.slice(0, 60)}"`);
  refused.code = 'ENOTFOUND';
  callback(refused, '', 0);
}
