import { getParam, parseNameAddr, parseSipMessage, type SipMessage } from '../sip/message/index.js';
import type { CallerFingerprint } from './identity-leaks.js';
import { findIpLiterals, normalizeIp } from './ip-literals.js';

/** One SIP message of the caller's agent, as its transport tap saw it. */
export interface CallerMessage {
  dir: 'in' | 'out';
  /** `address:port` of the caller's socket: one socket per identity (ARCHITECTURE.md). */
  local: string;
  /** `address:port` of the peer: the caller's server. */
  remote: string;
  raw: string;
}

export interface CallerFingerprintInput {
  user: string;
  displayName?: string;
  /** The caller's domain; leave it out when the callee is in the same domain (a callee knows its own domain). */
  domain?: string;
  /** The caller's machine and other host names. */
  hostNames?: string[];
  /** Every message the caller's agent sent and received, on all its identities, over the whole run. */
  messages: readonly CallerMessage[];
  /** The anonymous call's Call-ID as the caller sent it. */
  callId: string;
  /** The call's one-time address (seed 000 Embodiment 6): it may be seen once, it is its purpose. */
  oneTimeAddress?: string;
  /** The network's own addresses besides the servers the caller talks to (those are found in `messages`). */
  networkAddresses?: readonly string[];
}

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * Everything that identifies a caller, read from its own trace (issue 4, "Proof that nothing leaks"): its names; every
 * address its identities used or wrote (Via, Contact, SDP, Call-ID, socket) except the call's one-time address and
 * the network's; the `+sip.instance`, GRUUs and Contact users of its other identities (one identity is one socket);
 * any instance id in its User-Agent; and any host name in a Call-ID it made.
 */
export function fingerprintCaller(input: CallerFingerprintInput): CallerFingerprint {
  const network = new Set<string>();
  for (const address of input.networkAddresses ?? []) addIp(network, address);
  for (const entry of input.messages) addIp(network, hostOfEndpoint(entry.remote));
  const oneTime = input.oneTimeAddress !== undefined ? normalizeIp(input.oneTimeAddress) : undefined;
  const callSocket = input.messages.find((e) => e.dir === 'out' && callIdOf(e.raw) === input.callId)?.local;

  const addresses = new Set<string>();
  const instanceIds = new Set<string>();
  const hostNames = new Set(input.hostNames ?? []);
  const address = (text: string | undefined): void => {
    if (text === undefined) return;
    for (const ip of findIpLiterals(text)) if (ip !== oneTime && !network.has(ip)) addresses.add(ip);
  };

  for (const entry of input.messages) {
    const own = callSocket !== undefined && entry.local === callSocket;
    let message: SipMessage;
    try {
      message = parseSipMessage(entry.raw);
    } catch {
      continue; // a message the caller could not have sent or read says nothing about it
    }
    if (entry.dir === 'in') {
      // RFC 5627 §5: the registrar hands out GRUUs in the Contact of its 2xx to REGISTER.
      if (message.kind === 'response' && message.cseq.method === 'REGISTER' && message.status < 300) {
        for (const contact of safeContacts(message)) {
          const pub = getParam(contact.params, 'pub-gruu');
          const temp = getParam(contact.params, 'temp-gruu');
          if (pub !== undefined) instanceIds.add(unquote(pub)); // names the AOR: never shown, not even by its own identity
          if (temp !== undefined && !own) instanceIds.add(unquote(temp));
        }
      }
      continue;
    }
    address(hostOfEndpoint(entry.local)); // the socket: the address the network really sees
    for (const line of message.body.split(/\r?\n/)) if (/^[oc]=|^a=rtcp:/.test(line)) address(line);
    for (const contact of safeContacts(message)) {
      address(contact.uri.host);
      const instance = getParam(contact.params, '+sip.instance');
      if (instance !== undefined && !own) for (const id of unquote(instance).match(uuid) ?? [unquote(instance)]) instanceIds.add(id);
      const contactUser = contact.uri.user;
      if (!own && contactUser !== undefined && contactUser.toLowerCase() !== input.user.toLowerCase()) instanceIds.add(contactUser);
    }
    for (const agent of [message.get('user-agent'), message.get('server')]) for (const id of userAgentIds(agent)) instanceIds.add(id);
    if (message.kind === 'request') {
      address(message.topVia?.host);
      // A Call-ID names its maker only in requests that start something (the others carry the peer's Call-ID).
      if (getParam(message.to.params, 'tag') === undefined) {
        const at = message.callId.lastIndexOf('@');
        if (at >= 0) {
          const host = message.callId.slice(at + 1);
          if (normalizeIp(host) !== undefined) address(host);
          else if (host.length > 0) hostNames.add(host);
        }
      }
    }
  }
  return {
    user: input.user,
    ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
    ...(input.domain !== undefined ? { domain: input.domain } : {}),
    ...(hostNames.size > 0 ? { hostNames: [...hostNames] } : {}),
    ...(addresses.size > 0 ? { addresses: [...addresses] } : {}),
    ...(instanceIds.size > 0 ? { instanceIds: [...instanceIds] } : {}),
  };
}

/** Identifier-like tokens in a User-Agent or Server value: UUIDs, and long runs mixing letters and digits. */
export function userAgentIds(value: string | undefined): string[] {
  if (value === undefined) return [];
  const ids = new Set(value.match(uuid) ?? []);
  for (const token of value.split(/[^A-Za-z0-9_-]+/)) {
    if (token.length >= 12 && /\d/.test(token) && /[A-Za-z]/.test(token) && ![...ids].some((id) => id.includes(token) || token.includes(id))) ids.add(token);
  }
  return [...ids];
}

function safeContacts(message: SipMessage): ReturnType<typeof parseNameAddr>[] {
  const out: ReturnType<typeof parseNameAddr>[] = [];
  for (const value of message.getAll('contact')) {
    try {
      out.push(parseNameAddr(value));
    } catch {
      // `Contact: *` and the like name nobody
    }
  }
  return out;
}

function callIdOf(raw: string): string | undefined {
  const head = raw.slice(0, Math.max(0, raw.indexOf('\r\n\r\n')) || raw.length);
  return /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(head)?.[1];
}

function hostOfEndpoint(endpoint: string): string {
  return endpoint.startsWith('[') ? endpoint.slice(1, endpoint.indexOf(']')) : endpoint.replace(/:\d+$/, '');
}

function addIp(set: Set<string>, text: string): void {
  const ip = normalizeIp(text);
  if (ip !== undefined) set.add(ip);
}

function unquote(text: string): string {
  return text.replace(/^"|"$/g, '').replace(/^<|>$/g, '');
}
