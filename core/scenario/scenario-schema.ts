import { z } from 'zod';
import { mediaTimeoutMaxSeconds } from '../phone/media-timeout.js';
import { maxSessionExpires } from '../sip/session-timer.js';
import { loadLimits } from './call-load.js';
import { parseDuration } from './duration.js';

/** The longest duration a scenario may give: a day (a longer one overflowed Node's timers and fired after 1 ms). */
export const maxDurationMs = 24 * 3600_000;

/** A duration written as `300ms`, `3s`, `2m` or milliseconds (a bare number, as SIPp's pause); read as milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (e.g. 300ms, 3s; a bare number is milliseconds)` });
    return z.NEVER;
  }
  if (ms > maxDurationMs) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is longer than a day (a bare number is milliseconds)` });
    return z.NEVER;
  }
  return ms;
});

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/, 'a name of letters, digits, _ and - (max 32)');
const sipServer = z.string().regex(/^sips?:/i, 'a sip: URI such as sip:127.0.0.1:5060;transport=udp');

/** `auto`, `auto:2s` (after ringing that long), `manual`, or `reject:486` (the status to reject with). */
const answer = z
  .string()
  .regex(/^(auto|auto:\d+(ms|s)|manual|reject:[3-6]\d\d)$/, 'auto, auto:<duration>, manual or reject:<status>')
  .refine((text) => !text.startsWith('auto:') || parseDuration(text.slice(5))! <= maxDurationMs, 'auto:<duration> of at most a day')
  .transform((text) => {
    if (text === 'auto') return { kind: 'auto' as const };
    if (text.startsWith('auto:')) return { kind: 'auto' as const, delayMs: parseDuration(text.slice(5))! };
    if (text === 'manual') return { kind: 'manual' as const };
    return { kind: 'reject' as const, status: Number(text.slice(7)) };
  });

/**
 * One-time addresses (seed 000 Embodiment 6): `temporary` takes a fresh address per call and per receiving period —
 * from a configured `prefix`, a router advertisement, the interface's prefix, the DHCP lease, or (the default without
 * a prefix) the embedded lab's loopback address server; `fixed` uses one address (`local`, or the OS choice).
 */
const addressOption = z.union([
  z.object({ mode: z.literal('fixed'), local: z.string().regex(/^[0-9A-Fa-f.:]{2,45}$/, 'an IP address').optional() }).strict(),
  z
    .object({
      mode: z.literal('temporary'),
      source: z.enum(['router-advertisement', 'interface', 'configured', 'dhcp', 'loopback']).optional(),
      prefix: z.string().regex(/^[0-9A-Fa-f:]{2,39}\/64$/, 'an IPv6 /64 such as 2001:db8:1:2::/64').optional(),
      interface: z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, 'an interface name').optional(),
      applier: z.enum(['auto', 'kernel', 'signaling-only']).optional(),
      dad: z.enum(['optimistic', 'full', 'skip']).optional(),
      fallback: z.enum(['none', 'fixed']).optional(),
      prepare: z.enum(['on-dial', 'ahead']).optional(),
    })
    .strict()
    .refine((a) => a.source !== 'configured' || a.prefix !== undefined, { message: 'a configured source needs a prefix' })
    .refine((a) => a.source !== 'router-advertisement' || a.interface !== undefined, { message: 'router solicitation needs the interface' }),
]);

/** A room of seed 001's building, `area-building-room` (¶[55]). */
const householdRoom = z.string().regex(/^\d{1,8}-\d{1,8}-\d{1,8}$/, 'a room number area-building-room such as 100-1101-1201');

export const agentSchema = z
  .object({
    /** Absent for a household terminal: its room's gateway gives it its number. */
    user: z.string().regex(/^[A-Za-z0-9._+~!*'()-]{1,64}$/, 'a SIP user name').optional(),
    /** Seed 001: a household terminal plugged into this room (docs/household.md); its number comes with its address. */
    household: householdRoom.optional(),
    display: z.string().max(64).optional(),
    password: z.string().max(128).optional(),
    transport: z.enum(['udp', 'tcp', 'ws', 'tls', 'wss']).default('udp'),
    /**
     * TLS and WSS: how the agent trusts its server (default with `lab: { tls: true }`: the lab's certificate pinned by
     * its fingerprint; otherwise the system's CA store).
     */
    tls: z
      .object({
        ca_file: z.string().min(1).max(4096).optional(),
        fingerprint: z.string().max(120).optional(),
        server_name: z.string().max(253).optional(),
      })
      .strict()
      .optional(),
    answer: answer.optional(),
    server: sipServer.optional(),
    domain: z.string().max(255).optional(),
    /** The account default: withhold the caller ID on every call (prefix or header mode), or present it (none). */
    anonymity: z.enum(['none', 'prefix', 'header']).optional(),
    address: addressOption.optional(),
    /** Seed 003: lease ports and soft switches by DHCP and take the boot file by TFTP from the lab's service gateway. */
    provision: z.literal('dhcp').optional(),
    vendor_class: z.string().min(1).max(64).optional(),
    client_id: z.string().min(1).max(64).optional(),
    /** OPTIONS keep-alives to the soft switch; a silent one is failed over from. */
    keepalive: duration.optional(),
    /** Take calls sent straight to the Contact by anyone (default: only from the agent's servers; others get 403). */
    direct_calls: z.boolean().optional(),
    /** Do not disturb: every incoming call is refused with this status, never ringing. */
    dnd: z.union([z.literal(486), z.literal(603)]).optional(),
    /**
     * Call forwarding: `always`, when `busy` (another call talks), or on `no-answer` after `after`; `by: redirect` (302,
     * the default) or `by: call` (the phone calls `to` and hands the caller over by REFER with Replaces).
     */
    forward: z.object({ when: z.enum(['always', 'busy', 'no-answer']), to: z.string().min(1).max(256), after: duration.optional(), by: z.enum(['redirect', 'call']).optional() }).strict().optional(),
    /** SRTP with SDES keys: required (the default over tls and wss), preferred or off; only over tls or wss. */
    media: z.object({ encryption: z.enum(['required', 'preferred', 'off']) }).strict().optional(),
    /** Symmetric RTP latching (RFC 4961): on (the default) or off, for untrusted networks (docs/addresses.md). */
    latching: z.enum(['on', 'off']).optional(),
    /**
     * End an answered call after `seconds` without RTP or RTCP from the far end, `held_seconds` while it is on hold; off
     * (0) unless set, as in SIPp (scenario-agents.ts).
     */
    media_timeout: z.object({ seconds: z.number().int().min(0).max(mediaTimeoutMaxSeconds).optional(), held_seconds: z.number().int().min(0).max(mediaTimeoutMaxSeconds).optional() }).strict().optional(),
    /** Ask for a session timer of this many seconds in the agent's identified INVITEs (RFC 4028 §7.1); none when 0 or unset. */
    session_expires: z.number().int().min(0).max(maxSessionExpires).optional(),
  })
  .strict()
  .refine((a) => a.media === undefined || a.media.encryption === 'off' || a.transport === 'tls' || a.transport === 'wss', {
    message: 'media encryption needs transport tls or wss: the SRTP keys would cross the network in the clear',
    path: ['media'],
  })
  .refine((a) => a.provision === undefined || a.transport === 'udp', { message: 'a DHCP-provisioned agent talks UDP to its soft switches (option 225 carries one UDP port)', path: ['transport'] })
  .refine((a) => (a.user === undefined) === (a.household !== undefined), { message: 'an agent has a user, or a household room whose gateway gives it its number (not both)', path: ['user'] })
  .refine((a) => a.household === undefined || (a.transport === 'udp' && a.provision === undefined && a.server === undefined && a.domain === undefined && a.address === undefined), {
    message: 'a household terminal talks UDP to its room gateway, which gives it address, server and domain',
    path: ['household'],
  });

/**
 * Where the embedded network converts anonymous calls (seed 000 Embodiments 2-5). Agents in different `domain:`s get
 * one lab proxy per domain, peered; `carrier` adds a top-level proxy (named by `domain`) that every call between
 * domains crosses and that converts there.
 */
const labConversion = z
  .object({
    placement: z.enum(['caller-server', 'callee-server', 'both', 'carrier', 'off']),
    domain: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'a domain name').optional(),
  })
  .strict();

/** Fault injection on the phones' links (seed 002): what the in-path element forges. */
export const tamperKinds = ['via', 'record_route', 'route_set', 'replay'] as const;

const labObject = z
  .object({
    mode: z.literal('embedded'),
    auth: z.boolean().optional(),
    conversion: labConversion.optional(),
    /** Signed routing headers (seed 002): every link to a phone is untrusted; the agents get the verification keys. */
    signing: z.boolean().optional(),
    /** SIP over TLS and WSS listeners with the lab's own certificate (issue 18); tls and wss agents pin it. */
    tls: z.boolean().optional(),
    tamper: z.enum(tamperKinds).optional(),
    /** Seed 003's service gateway: DHCP with a port block per vendor class, TFTP, and a secondary soft switch. */
    service_gateway: z.object({ vendor_classes: z.record(z.string().min(1).max(64), z.number().int().min(4).max(4096)).optional() }).strict().optional(),
    /** Seed 001's building: rooms and how many private addresses each gets at first, its gateway's included. */
    household: z.object({ rooms: z.record(householdRoom, z.number().int().min(2).max(256)) }).strict().optional(),
  })
  .strict();

const verdict = z.enum(['valid', 'invalid', 'unknown-key', 'expired', 'missing']);

export const scenarioHeaderSchema = z
  .object({
    name: z.string().max(200).optional(),
    // `lab: embedded` is short for `lab: { mode: embedded }` (read as the object, so errors name the key inside).
    lab: z.preprocess((value) => (value === 'embedded' ? { mode: 'embedded' } : value), labObject).optional(),
    server: z
      .union([sipServer, z.object({ udp: sipServer.optional(), tcp: sipServer.optional(), ws: sipServer.optional(), tls: sipServer.optional(), wss: sipServer.optional() }).strict()])
      .optional(),
    domain: z.string().max(255).optional(),
    timeout: duration.optional(),
    /** How many SIP messages each agent's trace keeps (core/scenario/agent-trace.ts). */
    trace_limit: z.number().int('a whole number of messages').min(100, 'at least 100 messages').max(10_000_000, 'at most 10,000,000 messages').optional(),
    agents: z.record(name, agentSchema),
    steps: z.array(z.unknown()).min(1, 'a scenario needs at least one step'),
  })
  .strict();

const callRef = { call: name };
const by = { by: name.optional() };

/** Every step kind: a one-key object whose value has this shape. */
export const stepSchemas = {
  register: name,
  unregister: name,
  call: z
    .object({ from: name, to: z.string().min(1).max(256), id: name, anonymity: z.enum(['default', 'none', 'prefix', 'header']).optional(), level: z.enum(['id', 'full']).optional() })
    .strict(),
  /**
   * SPEC G: `calls` calls (or calls for `duration`) from one agent to a target, started `rate` per second, at most
   * `parallel` at once; each answered call is held `hold` and hung up by the caller. `id` names the load for
   * expectations and the report.
   */
  load: z
    .object({
      from: name,
      to: z.string().min(1).max(256),
      id: name,
      calls: z.number().int('a whole number of calls').min(1, 'at least 1 call').max(loadLimits.calls, `at most ${loadLimits.calls} calls`).optional(),
      duration: duration.pipe(z.number().min(1, 'a duration of at least 1 ms').max(loadLimits.durationMs, `at most ${loadLimits.durationMs / 3600_000} h`)).optional(),
      rate: z.number('a rate in calls per second').gt(0, 'a rate above 0 calls per second').max(loadLimits.rate, `at most ${loadLimits.rate} calls per second`),
      parallel: z.number().int('a whole number of calls').min(1, 'at least 1 call at once').max(loadLimits.parallel, `at most ${loadLimits.parallel} calls at once`).default(10),
      hold: duration.default(0),
      anonymity: z.enum(['default', 'none', 'prefix', 'header']).optional(),
      /** Threads that place the calls, each with a phone of the caller's account (0: the agent itself places them). */
      workers: z.number().int('a whole number of workers').min(0, 'at least 0 workers').max(loadLimits.workers, `at most ${loadLimits.workers} workers`).default(0),
    })
    .strict()
    .refine((l) => l.calls !== undefined || l.duration !== undefined, { message: 'give calls (how many) or duration (how long), or both', path: ['calls'] }),
  /** A call that is talking on the answering agent is held first, or ended with `others: hangup`. */
  answer: z.object({ ...callRef, ...by, others: z.enum(['hold', 'hangup']).optional() }).strict(),
  reject: z.object({ ...callRef, ...by, status: z.number().int().min(300).max(699).default(486) }).strict(),
  hangup: z.object({ ...callRef, ...by }).strict(),
  hold: z.object({ ...callRef, ...by }).strict(),
  /** Resuming a held call holds the one that talks on that agent (a swap). */
  resume: z.object({ ...callRef, ...by }).strict(),
  /**
   * Transfer a call by REFER (RFC 3515): blind to `to` (an agent or a dial string), or attended with `replaces: CALL`
   * (Refer-To with Replaces naming the acting agent's leg of that call, RFC 3891). The step ends once the REFER is
   * accepted; `expect: { call, transfer: succeeded }` waits for the outcome.
   */
  transfer: z
    .object({ ...callRef, ...by, to: z.string().min(1).max(256).optional(), replaces: name.optional() })
    .strict()
    .refine((t) => (t.to === undefined) !== (t.replaces === undefined), { message: 'transfer needs exactly one of to and replaces' }),
  wait: duration,
  /** Seed 001 Fig. 8 steps 82, 84: the terminal is withdrawn: it unregisters and gives its address and number back. */
  withdraw: name,
  /** Seed 001 Fig. 11: the room is vacated; its gateway gives every address back to the management server. */
  vacate: householdRoom,
  /** Fault injection (seed 003): the embedded lab's primary or secondary soft switch stops answering. */
  stop_mgc: z.enum(['primary', 'secondary']),
  play: z
    .object({ ...callRef, ...by, file: z.string().min(1).max(1024).optional(), tone: z.number().gt(0).lt(4000).optional(), loop: z.boolean().optional() })
    .strict()
    .refine((p) => (p.file === undefined) !== (p.tone === undefined), { message: 'play needs exactly one of file or tone' }),
  record: z.object({ ...callRef, ...by, file: z.string().min(1).max(1024) }).strict(),
  dtmf: z
    .object({ ...callRef, ...by, digits: z.string().regex(/^[0-9A-Da-d*#]{1,32}$/, '1-32 of 0-9 A-D * #'), method: z.enum(['rfc4733', 'info']).default('rfc4733') })
    .strict(),
  expect: z
    .object({
      call: name.optional(),
      agent: name.optional(),
      state: z.enum(['calling', 'ringing', 'incoming', 'established', 'terminated']).optional(),
      status: z.number().int().min(100).max(699).optional(),
      incoming: z
        .object({
          from_user: z.string().optional(),
          count: z.number().int().min(0).optional(),
          state: z.enum(['incoming', 'established', 'terminated']).optional(),
          status: z.number().int().min(100).max(699).optional(),
          /** Name the (first) matching call, so later steps can act on it and check its media: `call: ID`. */
          id: name.optional(),
          /** The call was presented as anonymous (no callback number). */
          anonymous: z.boolean().optional(),
        })
        .strict()
        .optional(),
      registered: z.boolean().optional(),
      /**
       * Seed 000 Fig. 29: the agent is registered from a one-time receiving address no call of its has used yet — after a
       * received call, its replacement is in place (until then the spent address refuses calls with 480).
       */
      fresh_address: z.literal(true).optional(),
      /** Seed 001: what the agent's room gateway allotted it. */
      household: z.object({ number: z.string().max(64).optional(), room: householdRoom.optional(), address: z.string().max(45).optional() }).strict().optional(),
      /** A `load` step's outcome: at least `established` calls answered, at most `max_failed` failed, the asked rate held (`sustained: true`). */
      load: z.object({ id: name, established: z.number().int().min(0).optional(), max_failed: z.number().int().min(0).optional(), sustained: z.boolean().optional() }).strict().optional(),
      /**
       * The seed 002 signatures in this leg's messages, as the phone checks them with the lab's keys: `valid` = at
       * least one and all valid; `missing` = none; another verdict = at least one has it. `route_set` is either kind.
       */
      signatures: z.object({ via: verdict.optional(), record_route: verdict.optional(), route_set: verdict.optional() }).strict().optional(),
      /** The call did not work: never established, ended with a failure, or a request of it never reached the other side. */
      failed: z.boolean().optional(),
      /**
       * Nothing the callee received in this call names the caller: user, display name, domain and host names, its
       * lasting addresses (the call's one-time address may show), its instance ids and GRUUs.
       */
      caller_hidden: z.boolean().optional(),
      /** The operator's conversion tables (the embedded lab's) name the real caller of this anonymous call. */
      caller_identified: z.boolean().optional(),
      /** The leg's hold: `local` = this side holds it, `remote` = the peer holds it, `none` = neither. */
      hold: z.enum(['local', 'remote', 'none']).optional(),
      /** The transfer this leg is part of (as transferor or transferee) reached this state. */
      transfer: z.enum(['trying', 'succeeded', 'failed']).optional(),
      dtmf_received: z.string().regex(/^[0-9A-Da-d*#]{1,64}$/, 'DTMF digits').optional(),
      audio: z.object({ tone_hz: z.number().gt(0).lt(4000), min_share: z.number().gt(0).max(1).default(0.5) }).strict().optional(),
      rtp: z
        .object({
          max_loss_pct: z.number().min(0).max(100).optional(),
          min_received: z.number().int().min(0).optional(),
          flowing: z.boolean().optional(),
          codec: z.enum(['PCMU', 'PCMA']).optional(),
          /** SRTP both ways, every packet received authenticated (true), or plain RTP (false); issue 18. */
          encrypted: z.boolean().optional(),
        })
        .strict()
        .optional(),
      within: duration.optional(),
    })
    .strict()
    .refine((e) => e.call !== undefined || e.agent !== undefined || e.load !== undefined, { message: 'expect needs a call, an agent or a load' })
    .refine((e) => e.call !== undefined || (e.signatures === undefined && e.failed === undefined), { message: 'signatures and failed are about a call: name it with "call"' })
    .refine((e) => e.fresh_address === undefined || (e.agent !== undefined && e.call === undefined), { message: 'fresh_address is about an agent: name it with "agent", not "call"' }),
} as const;

export type StepKind = keyof typeof stepSchemas;
export type StepOf<K extends StepKind> = { kind: K; value: z.output<(typeof stepSchemas)[K]>; text: string };
export type ScenarioStep = { [K in StepKind]: StepOf<K> }[StepKind];
export type AgentSpec = z.output<typeof agentSchema>;
export type LabConversion = z.output<typeof labConversion>;

export interface Scenario {
  name?: string;
  lab?: {
    mode: 'embedded';
    auth?: boolean;
    conversion?: LabConversion;
    service_gateway?: { vendor_classes?: Record<string, number> };
    household?: { rooms: Record<string, number> };
    signing?: boolean;
    tls?: boolean;
    tamper?: (typeof tamperKinds)[number];
  };
  server?: { udp?: string; tcp?: string; ws?: string; tls?: string; wss?: string };
  domain?: string;
  timeoutMs?: number;
  /** How many SIP messages each agent's trace keeps (`trace_limit`; agent-trace.ts). */
  traceLimit?: number;
  agents: Record<string, AgentSpec>;
  steps: ScenarioStep[];
  /** Where the scenario file is: `play`/`record` paths are relative to it. */
  baseDir?: string;
}
