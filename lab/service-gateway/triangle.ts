import { parseNatContactParams } from '../../core/lease/nat-contact.js';

export interface TriangleEndpoint {
  address: string;
  port: number;
}

/**
 * A media gateway as registered (seed 003 Fig. 11 1114): its public address, and its private one when it is inside a
 * service gateway (a trunking gateway or an outside phone has none). NAPPT keeps ports, so both share the port.
 */
export interface RegisteredAddresses {
  public: TriangleEndpoint;
  private?: TriangleEndpoint;
}

export interface TriangleChoice {
  /** Where the caller sends to reach the callee, and the other way round (Fig. 11 1114). */
  callerSends: TriangleEndpoint;
  calleeSends: TriangleEndpoint;
  path: 'private' | 'public';
}

/**
 * The registrar's answer to the triangle problem (seed 003 Fig. 11 1108-1112): two phones behind the same public
 * address (the same service gateway) get each other's private addresses, so their traffic stays inside; otherwise
 * each gets the other's public address. Pure.
 */
export function chooseCallAddresses(caller: RegisteredAddresses, callee: RegisteredAddresses): TriangleChoice {
  if (caller.private && callee.private && caller.public.address === callee.public.address) {
    return { callerSends: { ...callee.private }, calleeSends: { ...caller.private }, path: 'private' };
  }
  return { callerSends: { ...callee.public }, calleeSends: { ...caller.public }, path: 'public' };
}

/**
 * What a registered Contact header value says (docs/provisioning.md "REGISTER"): the veil-private/veil-public
 * parameters when present; otherwise the Contact's host:port is a public address with no private one.
 */
export function registeredAddresses(contact: string): RegisteredAddresses | undefined {
  const declared = parseNatContactParams(contact);
  if (declared) return declared;
  const match = /<?sips?:(?:[^@>;]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/i.exec(contact);
  if (!match) return undefined;
  return { public: { address: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] !== undefined ? Number(match[2]) : 5060 } };
}
