import { formatNameAddr } from '../../core/sip/message/index.js';
import type { Binding, Registrar } from '../sip-server/registrar.js';
import type { ProxyHooks } from '../sip-server/sip-proxy.js';
import type { Hop } from '../sip-server/server-transports.js';
import { chooseCallAddresses, registeredAddresses, type TriangleChoice } from './triangle.js';

export interface TriangleDecision extends TriangleChoice {
  callId: string;
  caller: string;
  callee: string;
  at: number;
}

/**
 * The registrar's side of seed 003 Fig. 11 in the lab: for every new call between two registered phones it decides,
 * from what each REGISTER declared (veil-private / veil-public, docs/provisioning.md), whether they reach each other
 * by their private addresses (both behind the same public address) or their public ones, and keeps the decision for
 * the operator (the lab snapshot). In the lab every phone is really on loopback, so the choice is recorded, not
 * routed; nothing of it is added to the messages (a callee must not learn a caller's private address).
 */
export class TriangleRecorder implements ProxyHooks {
  private readonly decisions: TriangleDecision[] = [];
  registrar?: Registrar;

  constructor(private readonly keep = 200) {}

  onForwardRequest: NonNullable<ProxyHooks['onForwardRequest']> = (request, context) => {
    if (request.method !== 'INVITE' || request.to.params.some((p) => p.name.toLowerCase() === 'tag') || !this.registrar) return;
    const bindings = this.registrar.all();
    const caller = bindings.find((b) => sameHop(b.hop, context.inbound));
    const callee = bindings.find((b) => sameHop(b.hop, context.outbound));
    if (!caller || !callee) return; // a call from or to outside the registrar: no triangle to solve
    const callerAddresses = registeredAddresses(contactOf(caller));
    const calleeAddresses = registeredAddresses(contactOf(callee));
    if (!callerAddresses || !calleeAddresses) return;
    this.decisions.push({ ...chooseCallAddresses(callerAddresses, calleeAddresses), callId: context.original.callId, caller: caller.user, callee: callee.user, at: Date.now() });
    if (this.decisions.length > this.keep) this.decisions.splice(0, this.decisions.length - this.keep);
  };

  snapshot(): TriangleDecision[] {
    return this.decisions.map((d) => ({ ...d, callerSends: { ...d.callerSends }, calleeSends: { ...d.calleeSends } }));
  }
}

function contactOf(binding: Binding): string {
  return formatNameAddr(binding.contact);
}

function sameHop(a: Hop, b: Hop): boolean {
  return a.transport === b.transport && a.remote.address === b.remote.address && a.remote.port === b.remote.port;
}
