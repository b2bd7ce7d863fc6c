import { formatNameAddr, parseNameAddr, type SipMessage } from '../../core/sip/message/index.js';
import type { Binding, Registrar } from '../sip-server/registrar.js';
import type { ProxyHooks } from '../sip-server/sip-proxy.js';
import type { Hop } from '../sip-server/server-transports.js';
import { chooseCallAddresses, registeredAddresses, type RegisteredAddresses, type TriangleChoice } from './triangle.js';

export interface TriangleDecision extends TriangleChoice {
  callId: string;
  caller: string;
  callee: string;
  /**
   * Whether the choice was applied to the messages (Contact and SDP): only when every phone that declared a private
   * address really sends from the public one it declared, port included (NAPPT keeps ports) — a NAT is really in the
   * path. Otherwise (the embedded lab, where the gateway's addresses are a model on loopback) it is only recorded.
   */
  applied: boolean;
  at: number;
}

/** One side of a call the rule was applied to: where its messages come from, what it declared, what the other gets. */
interface Party {
  hop: Hop;
  addresses: RegisteredAddresses;
  /** The address the other side is handed for this party (Fig. 11 1114). */
  handed: string;
}

const bare = (host: string): string => host.replace(/^\[|\]$/g, '').toLowerCase();

/**
 * The registrar's side of seed 003 Fig. 11: for every new call between two registered phones it decides, from what
 * each REGISTER declared (veil-private / veil-public, docs/provisioning.md), whether they reach each other by their
 * private addresses (both behind the same public address, 1108/1110) or their public ones (1112), and hands each the
 * other's chosen address (1114) in the Contact host and the SDP `o=`/`c=` addresses of every message of the dialog
 * that passes the proxy (ports stay: NAPPT keeps them). A declaration is believed only when the REGISTER came from
 * the public address and port it names: a phone cannot make the proxy hand another phone an address it is not at.
 * Every decision is kept for the operator (the lab snapshot).
 */
export class TriangleRouter implements ProxyHooks {
  private readonly decisions: TriangleDecision[] = [];
  /** Call-ID → the two parties of an applied decision (both Call-IDs when the proxy changed it), oldest first. */
  private readonly calls = new Map<string, { caller: Party; callee: Party }>();
  registrar?: Registrar;

  constructor(private readonly keep = 200) {}

  onForwardRequest: NonNullable<ProxyHooks['onForwardRequest']> = (request, context) => {
    const known = this.calls.get(request.callId) ?? this.calls.get(context.original.callId);
    if (known) return this.rewrite(request, context.inbound, known);
    if (request.method !== 'INVITE' || request.to.params.some((p) => p.name.toLowerCase() === 'tag') || !this.registrar) return;
    const caller = this.registrar.bindingAt(context.inbound);
    const callee = this.registrar.bindingAt(context.outbound);
    if (!caller || !callee) return; // a call from or to outside the registrar: no triangle to solve
    const callerAddresses = registeredAddresses(contactOf(caller));
    const calleeAddresses = registeredAddresses(contactOf(callee));
    // neither is behind a service gateway (nothing declared): no triangle to solve, nothing to record
    if (!callerAddresses || !calleeAddresses || (!callerAddresses.private && !calleeAddresses.private)) return;
    const choice = chooseCallAddresses(callerAddresses, calleeAddresses);
    const applied = declaredTruly(caller, callerAddresses) && declaredTruly(callee, calleeAddresses);
    this.decisions.push({ ...choice, callId: context.original.callId, caller: caller.user, callee: callee.user, applied, at: Date.now() });
    if (this.decisions.length > this.keep) this.decisions.splice(0, this.decisions.length - this.keep);
    if (!applied) return;
    const parties = {
      caller: { hop: caller.hop, addresses: callerAddresses, handed: choice.calleeSends.address },
      callee: { hop: callee.hop, addresses: calleeAddresses, handed: choice.callerSends.address },
    };
    for (const id of new Set([request.callId, context.original.callId])) this.calls.set(id, parties);
    while (this.calls.size > this.keep * 2) this.calls.delete(this.calls.keys().next().value!);
    this.rewrite(request, context.inbound, parties);
  };

  onForwardResponse: NonNullable<ProxyHooks['onForwardResponse']> = (response, context) => {
    // a late 2xx retransmission has no context: it is sent on as it came (its first copy was rewritten)
    const known = this.calls.get(response.callId) ?? (context ? this.calls.get(context.original.callId) : undefined);
    if (known && context) this.rewrite(response, context.outbound, known);
  };

  snapshot(): TriangleDecision[] {
    return this.decisions.map((d) => ({ ...d, callerSends: { ...d.callerSends }, calleeSends: { ...d.calleeSends } }));
  }

  /** A message of the call from `from`: that party's own addresses become the one the other side is handed. */
  private rewrite(message: SipMessage, from: Hop, parties: { caller: Party; callee: Party }): void {
    const sender = sameHop(from, parties.caller.hop) ? parties.caller : sameHop(from, parties.callee.hop) ? parties.callee : undefined;
    if (!sender) return;
    const own = new Set([sender.addresses.public.address, ...(sender.addresses.private ? [sender.addresses.private.address] : [])].map(bare));
    const contact = message.get('contact');
    if (contact !== undefined && contact.trim() !== '*') {
      try {
        const parsed = parseNameAddr(contact);
        if (own.has(bare(parsed.uri.host))) {
          parsed.uri = { ...parsed.uri, host: sender.handed.includes(':') ? `[${sender.handed}]` : sender.handed };
          message.set('contact', formatNameAddr(parsed));
        }
      } catch {
        // a Contact the proxy cannot read is passed on as it is: the phone's own checks count it
      }
    }
    if (!/^application\/sdp/i.test(message.get('content-type') ?? '') || message.body.length === 0) return;
    const family = sender.handed.includes(':') ? 'IP6' : 'IP4';
    // RFC 4566 §5.2 o=<username> <sess-id> <sess-version> IN <addrtype> <unicast-address>, §5.7 c=IN <addrtype> <address>
    message.body = message.body
      .replace(/^(o=\S+ \S+ \S+ )IN IP[46] (\S+)$/gim, (line: string, head: string, address: string) => (own.has(bare(address)) ? `${head}IN ${family} ${sender.handed}` : line))
      .replace(/^c=IN IP[46] ([^\s/]+)(.*)$/gim, (line: string, address: string, rest: string) => (own.has(bare(address)) ? `c=IN ${family} ${sender.handed}${rest}` : line));
  }
}

/** Seed 003: a phone with a private address really is behind its declared public address and port (NAPPT keeps ports). */
function declaredTruly(binding: Binding, addresses: RegisteredAddresses): boolean {
  if (!addresses.private) return true;
  return bare(binding.hop.remote.address) === bare(addresses.public.address) && binding.hop.remote.port === addresses.public.port;
}

function contactOf(binding: Binding): string {
  return formatNameAddr(binding.contact);
}

function sameHop(a: Hop, b: Hop): boolean {
  return a.transport === b.transport && a.remote.address === b.remote.address && a.remote.port === b.remote.port;
}
