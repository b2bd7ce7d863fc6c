import { isIP } from 'node:net';
import { parseNameAddr, type SipMessage } from '../../core/sip/message/index.js';
import type { Hop } from './server-transports.js';
import type { ForwardContext, ProxyHooks } from './sip-proxy.js';

export interface NatHelperCounters {
  /** Messages whose Contact named an address they did not come from (a phone behind a NAT, or signalling-only). */
  detected: number;
  /** SDP connection addresses rewritten to the address the message came from. */
  sdpRewritten: number;
}

const bare = (host: string): string => host.replace(/^\[|\]$/g, '').toLowerCase();

/**
 * The lab's NAT helper, as Kamailio's nathelper does it (`nat_uac_test` + `fix_nated_sdp`): a request or response
 * straight from a user agent (not through another proxy) whose Contact names an IP address other than the one it came
 * from is from a user agent that cannot be reached at
 * the addresses it writes — behind a NAT, or a signalling-only one-time address (docs/addresses.md). Its SIP is
 * already answered over the flow it came on (RFC 3581 `received`/`rport`; the registrar keeps such a REGISTER's flow,
 * RFC 5626) and its SDP connection addresses that name the Contact's address are rewritten to the address the message
 * came from, so the other side's RTP reaches the port the phone actually listens on (symmetric RTP, RFC 4961: it
 * sends from that port too).
 */
export class NatHelper implements ProxyHooks {
  readonly counters: NatHelperCounters = { detected: 0, sdpRewritten: 0 };

  /** `userAgentAt`: whether a hop leads straight to a registered user agent (not to another proxy). */
  constructor(private readonly userAgentAt: (hop: Hop) => boolean) {}

  onRequest(request: SipMessage, inbound: Hop): undefined {
    // only on the first hop (one Via: the user agent's own, as Kamailio's is_first_hop): a request another proxy
    // forwarded comes from that proxy, whatever its Contact says
    if (request.getAll('via').length === 1) this.fix(request, inbound);
    return undefined;
  }

  onForwardResponse(response: SipMessage, context: ForwardContext | undefined): undefined {
    // the response came back over the hop its request went out on — from the user agent itself only when that hop
    // was a registered contact's; a late 2xx retransmission has no context
    if (context && this.userAgentAt(context.outbound)) this.fix(response, context.outbound);
    return undefined;
  }

  private fix(message: SipMessage, from: Hop): void {
    const contact = message.get('contact');
    if (contact === undefined || contact.trim() === '*') return;
    let host: string;
    try {
      host = bare(parseNameAddr(contact).uri.host);
    } catch {
      return; // a Contact the proxy cannot read is not this helper's to judge: the phone's own checks count it
    }
    const source = bare(from.remote.address);
    if (isIP(host) === 0 || host === source) return;
    this.counters.detected++;
    if (!/^application\/sdp/i.test(message.get('content-type') ?? '') || message.body.length === 0) return;
    const family = isIP(source) === 6 ? 'IP6' : 'IP4';
    let rewritten = 0;
    // RFC 4566 §5.7: c=<nettype> <addrtype> <connection-address>, at session and media level
    message.body = message.body.replace(/^c=IN IP[46] ([^\s/]+)(.*)$/gim, (line: string, address: string, rest: string) => {
      if (bare(address) !== host) return line;
      rewritten++;
      return `c=IN ${family} ${source}${rest}`;
    });
    this.counters.sdpRewritten += rewritten;
  }
}
