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
