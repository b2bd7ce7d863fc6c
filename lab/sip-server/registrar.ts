import {
  createResponse,
  formatNameAddr,
  getParam,
  ownCopy,
  parseNameAddr,
  randomToken,
  withParam,
  withoutParam,
  type NameAddr,
  type SipParam,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from '../../core/sip/message/index.js';
import type { Endpoint } from '../../core/sip/transport/endpoint.js';
import type { Hop } from './server-transports.js';

/** One registered contact of an address-of-record (RFC 3261 §10.3). */
export interface Binding {
  user: string;
  contact: NameAddr;
  /** Comparison key of the contact URI (RFC 3261 §19.1.4). */
  key: string;
  callId: string;
  cseq: number;
  expiresAt: number;
  registeredAt: number;
  /** The flow the REGISTER came over; requests to this contact go back over it. */
  hop: Hop;
  userAgent?: string;
}

export interface RegistrarOptions {
  /** Known users (404 for others); undefined accepts anyone. */
  users?: ReadonlyMap<string, { password?: string }>;
  minExpires?: number;
  maxExpires?: number;
  defaultExpires?: number;
  /**
   * Contacts one address-of-record may hold (Kamailio's `max_contacts`); a REGISTER that would add more gets 503.
   * RFC 3261 §10.3 sets no limit, but a location service open to the network needs one.
   */
  maxContactsPerUser?: number;
  /** Bindings of all users together; beyond it new contacts get 503 with Retry-After (refreshes still work). */
  maxBindings?: number;
  /**
   * Users (addresses-of-record) holding bindings at once: without a list of known users any name registers, so a
   * new one beyond this gets 503 with Retry-After, while the users already registered refresh as before.
   */
  maxUsers?: number;
}

/** The registrar's limits as configured (RegistrarOptions without the users). */
export type RegistrarLimits = Required<Pick<RegistrarOptions, 'maxContactsPerUser' | 'maxBindings' | 'maxUsers'>>;

/** Why a REGISTER was refused with 503, counted: CONTACTS_PER_USER, USERS, BINDINGS. */
export type RegistrarRefusal = 'CONTACTS_PER_USER' | 'USERS' | 'BINDINGS';

export type RegistrarEvent = { type: 'registered' | 'refreshed' | 'removed' | 'expired'; binding: Binding };

/** The lab's location service and REGISTER processing (RFC 3261 §10.3). */
export class Registrar {
  private readonly bindings = new Map<string, Binding[]>();
  /** Bindings of every user, kept in step with `bindings` (the global limit is checked per REGISTER). */
  private count = 0;
  /**
   * The bindings by the flow they were registered over and by contact key, kept in step with `bindings` (`store`), so
   * that the proxy's per-message questions (is this hop a user agent's, where does this Contact URI lead) cost one
   * lookup however many phones are registered. `indexed` is each user's list as last indexed, with its keys.
   */
  private readonly byFlow = new Map<string, Binding[]>();
  private readonly byContact = new Map<string, Binding[]>();
  private readonly indexed = new Map<string, Array<{ binding: Binding; flow: string }>>();
  private readonly listeners = new Set<(event: RegistrarEvent) => void>();
  private readonly options: Required<Omit<RegistrarOptions, 'users'>> & Pick<RegistrarOptions, 'users'>;
  /** REGISTERs refused for a limit, by reason. */
  readonly refused: Partial<Record<RegistrarRefusal, number>> = {};

  constructor(options: RegistrarOptions = {}) {
    this.options = { minExpires: 1, maxExpires: 7200, defaultExpires: 3600, maxContactsPerUser: 100, maxBindings: 10_000, maxUsers: 10_000, ...options };
  }

  get limits(): RegistrarLimits {
    return { maxContactsPerUser: this.options.maxContactsPerUser, maxBindings: this.options.maxBindings, maxUsers: this.options.maxUsers };
  }

  /** Users holding at least one binding. */
  get users(): number {
    return this.bindings.size;
  }

  onEvent(listener: (event: RegistrarEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  isKnown(user: string): boolean {
    return this.options.users === undefined || this.options.users.has(user);
  }

  /** Current (unexpired) bindings of a user, most recent first. */
  lookup(user: string): Binding[] {
    this.expire(user);
    return [...(this.bindings.get(user) ?? [])].sort((a, b) => b.registeredAt - a.registeredAt);
  }

  /** The binding whose Contact URI is `uri`, so an in-dialog request reaches it over its flow. */
  bindingForUri(uri: SipUri): Binding | undefined {
    return this.firstLive(this.byContact.get(contactKey(uri)));
  }

  /** A live binding registered over `hop` (its transport, address and port): the hop leads straight to a user agent. */
  bindingAt(hop: Hop): Binding | undefined {
    return this.firstLive(this.byFlow.get(flowKey(hop)));
  }

  /** Of these candidates, the live one first in registrar order (users as they registered, each user's list in order). */
  private firstLive(candidates: readonly Binding[] | undefined): Binding | undefined {
    if (candidates === undefined) return undefined;
    const now = Date.now();
    const live = candidates.filter((b) => b.expiresAt > now);
    if (live.length <= 1) return live[0];
    const shared = new Set(live); // rare: a flow or Contact several bindings share
    for (const list of this.bindings.values()) for (const b of list) if (shared.has(b)) return b;
    return undefined;
  }

  all(): Binding[] {
    for (const user of this.bindings.keys()) this.expire(user);
    return [...this.bindings.values()].flat();
  }

  /** Process an (authenticated) REGISTER and build its response. */
  handleRegister(request: SipRequest, hop: Hop): SipResponse {
    const user = request.to.uri.user;
    if (user === undefined) return createResponse(request, 400, 'Bad Request (no user in To)');
    if (!this.isKnown(user)) return createResponse(request, 404, undefined, tag());
    const contacts = request.getAll('contact');
    const headerExpires = parseExpires(request.get('expires'));
    const callId = request.callId;
    const cseq = request.cseq.seq;
    const now = Date.now();
    this.expire(user);
    // RFC 3261 §10.3 step 7: the updates are committed only if all of them succeed, so they are made on a copy
    const list = [...(this.bindings.get(user) ?? [])];
    const before = list.length;
    const events: RegistrarEvent[] = [];

    if (contacts.length === 1 && contacts[0] === '*') {
      // §10.3 step 6: "*" is only allowed with Expires: 0
      if (headerExpires !== 0) return createResponse(request, 400, 'Bad Request (* needs Expires: 0)', tag());
      this.store(user, [], list.length);
      for (const binding of list) this.emit({ type: 'removed', binding });
      return this.okResponse(request, []);
    }

    let parsed: NameAddr[];
    try {
      parsed = contacts.map(parseNameAddr);
    } catch (error) {
      return createResponse(request, 400, `Bad Request (${(error as Error).message})`.slice(0, 100), tag());
    }
    for (const contact of parsed) {
      const requested = parseExpires(getParam(contact.params, 'expires')) ?? headerExpires ?? this.options.defaultExpires;
      if (requested !== 0 && requested < this.options.minExpires) {
        const reply = createResponse(request, 423, 'Interval Too Brief', tag());
        reply.set('min-expires', String(this.options.minExpires));
        return reply;
      }
    }
    const full = this.wouldOverflow(user, list, parsed, headerExpires);
    if (full) {
      this.refused[full.code] = (this.refused[full.code] ?? 0) + 1;
      const reply = createResponse(request, 503, full.reason, tag());
      reply.set('retry-after', '60');
      return reply;
    }
    const held = new Map(list.map((b) => [b.key, b]));
    for (const contact of parsed) {
      const requested = parseExpires(getParam(contact.params, 'expires')) ?? headerExpires ?? this.options.defaultExpires;
      const expires = Math.min(requested, this.options.maxExpires);
      const key = contactKey(contact.uri);
      const index = list.findIndex((b) => b.key === key);
      const existing = index >= 0 ? list[index] : undefined;
      // §10.3 step 7: an older or repeated CSeq in the same Call-ID must not change the binding, as it was before this
      // request (one REGISTER may name a contact twice: the later one wins)
      const prior = held.get(key);
      if (prior && prior.callId === callId && cseq <= prior.cseq) {
        return createResponse(request, 500, 'Server Internal Error (CSeq out of order)', tag());
      }
      if (expires === 0) {
        if (existing) {
          list.splice(index, 1);
          events.push({ type: 'removed', binding: existing });
        }
        continue;
      }
      // Kept for minutes to hours: own copies, not slices that keep the whole REGISTER alive.
      const binding: Binding = {
        user: ownCopy(user),
        contact: parseNameAddr(ownCopy(formatNameAddr({ ...contact, params: withoutParam(contact.params, 'expires') }))),
        key,
        callId: ownCopy(callId),
        cseq,
        expiresAt: now + expires * 1000,
        registeredAt: existing?.registeredAt ?? now,
        hop: bindingHop(contact.uri, hop),
      };
      const agent = request.get('user-agent');
      if (agent !== undefined) binding.userAgent = ownCopy(agent.slice(0, 200));
      if (existing) list[index] = binding;
      else list.push(binding);
      events.push({ type: existing ? 'refreshed' : 'registered', binding });
    }
    this.store(user, list, before);
    for (const event of events) this.emit(event);
    return this.okResponse(request, list);
  }

  /** When the last live registration over the flow `connectionId` expires, or undefined when it carries none. */
  flowExpiry(connectionId: string): number | undefined {
    const now = Date.now();
    let latest: number | undefined;
    for (const list of this.bindings.values()) {
      for (const b of list) if (b.hop.connectionId === connectionId && b.expiresAt > now && (latest === undefined || b.expiresAt > latest)) latest = b.expiresAt;
    }
    return latest;
  }

  /**
   * Drop every binding whose flow was `connectionId` (the connection closed: RFC 5626 §5.5), but a TCP Contact that
   * names its own address and port outside outbound: it is reached there from now on (RFC 3261 §10).
   */
  dropFlow(connectionId: string): void {
    const gone: Binding[] = [];
    for (const [user, list] of [...this.bindings]) {
      const ours = list.filter((b) => b.hop.connectionId === connectionId);
      if (ours.length === 0) continue;
      for (const b of ours.filter(outlivesFlow)) b.hop = { transport: b.hop.transport, remote: b.hop.remote };
      const keep = list.filter((b) => b.hop.connectionId !== connectionId);
      gone.push(...list.filter((b) => b.hop.connectionId === connectionId));
      this.store(user, keep, list.length);
    }
    for (const binding of gone) this.emit({ type: 'removed', binding }); // listeners see the registrar as it now is
  }

  private okResponse(request: SipRequest, list: Binding[]): SipResponse {
    const reply = createResponse(request, 200, 'OK', tag());
    const now = Date.now();
    const contacts = list.map((b) => {
      const params: SipParam[] = withParam(b.contact.params, 'expires', String(Math.max(0, Math.round((b.expiresAt - now) / 1000))));
      return formatNameAddr({ ...b.contact, params });
    });
    if (contacts.length > 0) reply.replaceAll('contact', contacts);
    reply.set('date', new Date().toUTCString());
    return reply;
  }

  private expire(user: string): void {
    const list = this.bindings.get(user);
    if (!list) return;
    const now = Date.now();
    const keep = list.filter((b) => b.expiresAt > now);
    if (keep.length === list.length) return;
    this.store(user, keep, list.length);
    for (const gone of list.filter((b) => b.expiresAt <= now)) this.emit({ type: 'expired', binding: gone });
  }

  /** Bindings held, all users together. */
  get size(): number {
    return this.count;
  }

  /** A user's bindings are now `list` (it had `before`); the total follows. */
  private store(user: string, list: Binding[], before: number): void {
    this.count += list.length - before;
    if (list.length > 0) this.bindings.set(user, list);
    else this.bindings.delete(user);
    for (const { binding, flow } of this.indexed.get(user) ?? []) {
      unindex(this.byFlow, flow, binding);
      unindex(this.byContact, binding.key, binding);
    }
    const entries = list.map((binding) => ({ binding, flow: flowKey(binding.hop) }));
    for (const { binding, flow } of entries) {
      index(this.byFlow, flow, binding);
      index(this.byContact, binding.key, binding);
    }
    if (entries.length > 0) this.indexed.set(user, entries);
    else this.indexed.delete(user);
  }

  /**
   * Why this REGISTER may not add its new contacts, or undefined. Refreshes and removals always pass, so a full
   * registrar still keeps the phones it has; only new contacts are refused. Expired bindings of other users are
   * swept first when the total looks full (they only leave on lookup otherwise).
   */
  private wouldOverflow(user: string, list: Binding[], contacts: NameAddr[], headerExpires: number | undefined): { code: RegistrarRefusal; reason: string } | undefined {
    const keys = new Set(list.map((b) => b.key));
    let added = 0;
    for (const contact of contacts) {
      const expires = parseExpires(getParam(contact.params, 'expires')) ?? headerExpires ?? this.options.defaultExpires;
      const key = contactKey(contact.uri);
      if (expires !== 0 && !keys.has(key)) {
        keys.add(key);
        added++;
      }
    }
    if (added === 0) return undefined;
    if (list.length + added > this.options.maxContactsPerUser) {
      return { code: 'CONTACTS_PER_USER', reason: `Service Unavailable (at most ${this.options.maxContactsPerUser} contacts per user)` };
    }
    const newUser = list.length === 0;
    const over = (): boolean => this.count + added > this.options.maxBindings || (newUser && this.bindings.size >= this.options.maxUsers);
    if (over()) {
      for (const other of [...this.bindings.keys()]) if (other !== user) this.expire(other);
      if (this.count + added > this.options.maxBindings) return { code: 'BINDINGS', reason: 'Service Unavailable (registrar full)' };
      if (newUser && this.bindings.size >= this.options.maxUsers) return { code: 'USERS', reason: `Service Unavailable (at most ${this.options.maxUsers} users)` };
    }
    return undefined;
  }

  private emit(event: RegistrarEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/**
 * Where requests for a contact go. Over WebSocket, back over the connection the REGISTER came on (a browser-style
 * client cannot accept connections: RFC 7118 §6, RFC 5626 §5.3). Over UDP, to the Contact URI itself (RFC 3261 §10: a
 * third party may register a contact elsewhere), unless the contact asks for its flow with the `ob` parameter (RFC
 * 5626 §5.4), or names the very port the REGISTER came from on another address — a phone behind a NAT, or whose
 * Contact names an address its socket does not use (a signalling-only one-time address). Over TCP, over the
 * REGISTER's connection while it is open, and to the Contact's address and port (a new connection) once it is not,
 * when the Contact names one: SIPp registering a contact on another SIPp's port closes its connection right after.
 */
export function bindingHop(contact: SipUri, flow: Hop): Hop {
  if (flow.transport === 'ws' || getParam(contact.params, 'ob') !== undefined) return flow;
  const remote = dialableContact(contact, flow.transport);
  if (!remote) return flow;
  if (flow.transport !== 'udp') return { ...flow, remote };
  // RFC 3581 / Kamailio's fix_nated_register: a REGISTER from the same port but another address than its Contact names
  // comes from behind a NAT (or a signalling-only one-time address): the contact is reached over the flow it came on
  if (remote.port === flow.remote.port && remote.address.toLowerCase() !== flow.remote.address.toLowerCase()) return flow;
  return { transport: 'udp', remote };
}

/** The address and port a Contact URI names for `transport`, when it names an address (not a name like x.invalid). */
function dialableContact(contact: SipUri, transport: Hop['transport']): Endpoint | undefined {
  const named = (getParam(contact.params, 'transport') ?? 'udp').toLowerCase();
  if (named !== transport || contact.scheme !== 'sip' || !/^(\d{1,3}\.){3}\d{1,3}$|^\[[0-9a-f:.]+\]$/i.test(contact.host)) return undefined;
  return { address: contact.host.replace(/^\[|\]$/g, ''), port: contact.port ?? 5060 };
}

/**
 * A TCP binding that outlives its connection: a Contact that names where to connect, registered without RFC 5626
 * outbound (no reg-id; an outbound registration goes with its flow, §5.5).
 */
function outlivesFlow(binding: Binding): boolean {
  if (binding.hop.transport !== 'tcp' || getParam(binding.contact.params, 'reg-id') !== undefined) return false;
  const remote = dialableContact(binding.contact.uri, 'tcp');
  return remote !== undefined && remote.address === binding.hop.remote.address && remote.port === binding.hop.remote.port;
}

/** A flow as the registrar indexes it: what a hop's messages come from and go to (not the connection, which may change). */
function flowKey(hop: Hop): string {
  return `${hop.transport} ${hop.remote.address} ${hop.remote.port}`;
}

function index(map: Map<string, Binding[]>, key: string, binding: Binding): void {
  const list = map.get(key);
  if (list) list.push(binding);
  else map.set(key, [binding]);
}

function unindex(map: Map<string, Binding[]>, key: string, binding: Binding): void {
  const list = map.get(key);
  if (!list) return;
  const at = list.indexOf(binding);
  if (at >= 0) list.splice(at, 1);
  if (list.length === 0) map.delete(key);
}

/** RFC 3261 §19.1.4 comparison: user and port exact, host case-insensitive, transport parameter significant. */
export function contactKey(uri: SipUri): string {
  const transport = (getParam(uri.params, 'transport') ?? 'udp').toLowerCase();
  return `${uri.scheme}:${uri.user ?? ''}@${uri.host.toLowerCase()}:${uri.port ?? ''};${transport}`;
}

function parseExpires(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function tag(): string {
  return randomToken(10);
}
