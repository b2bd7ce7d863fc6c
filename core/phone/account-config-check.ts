import { z } from 'zod';
import { mediaTimeoutMaxSeconds } from './media-timeout.js';
import { maxSessionExpires } from '../sip/session-timer.js';
import { PhoneError } from '../api/phone-error.js';
import type { AccountConfig } from '../api/phone-types.js';
import { parseHouseholdNumber } from '../household/household-number.js';
import { parseSipUri } from '../sip/message/index.js';

/** Text that goes into a SIP header: no line breaks, quotes or backslashes that could end or extend it (RFC 3261 §25.1). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const headerSafe = /^[^\r\n"\\\u0000-\u001f\u007f]{0,64}$/;
const sipUser = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}$/;
const hostPort = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$/;
const ip = /^[0-9A-Fa-f.:]{2,45}$/;

/** A string matching `pattern`; anything else (another type too) is refused with "must be HINT". */
const text = (pattern: RegExp, hint: string) => z.string({ error: `must be ${hint}` }).regex(pattern, `must be ${hint}`);
const oneOf = <const T extends readonly [string, ...string[]]>(options: T) => z.enum(options, { error: `must be one of ${options.join(', ')}` });
const integer = (min: number, max: number, hint: string) => z.number({ error: `must be ${hint}` }).int(`must be ${hint}`).min(min, `must be ${hint}`).max(max, `must be ${hint}`);
/** Absent when missing or null (JSON has no undefined). */
const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

const answer = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('manual') }),
    z.object({ kind: z.literal('auto'), delayMs: integer(0, 60_000, '0-60000').optional() }),
    z.object({ kind: z.literal('reject'), status: integer(300, 699, '300-699') }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'must be one of manual, auto, reject' : 'must be an object') },
);

const dialRule = z.object(
  {
    prefix: text(/^[0-9*#]{1,8}$/, '1-8 of 0-9 * #'),
    action: oneOf(['withhold', 'present']),
    label: text(/^[^\r\n]{1,64}$/, '1-64 characters'),
  },
  { error: 'must be an object' },
);

const address = z.discriminatedUnion(
  'mode',
  [
    z.object({ mode: z.literal('fixed') }),
    z
      .object({
        mode: z.literal('temporary'),
        source: oneOf(['router-advertisement', 'interface', 'configured', 'dhcp', 'loopback']),
        prefix: optional(text(/^[0-9A-Fa-f:]{2,39}\/64$/, 'an IPv6 /64 such as 2001:db8:1:2::/64')),
        interface: optional(text(/^[A-Za-z0-9_.@-]{1,15}$/, 'an interface name')),
        applier: optional(oneOf(['auto', 'kernel', 'signaling-only'])),
        dad: optional(oneOf(['optimistic', 'full', 'skip'])),
        fallback: optional(oneOf(['none', 'fixed'])),
        prepare: optional(oneOf(['on-dial', 'ahead'])),
      })
      .superRefine((a, ctx) => {
        if (a.source === 'configured' && a.prefix === undefined) ctx.addIssue({ code: 'custom', path: ['prefix'], message: 'is needed by a configured address source' });
        if (a.source === 'router-advertisement' && a.interface === undefined) ctx.addIssue({ code: 'custom', path: ['interface'], message: 'is needed for router solicitation' });
      }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'must be one of fixed, temporary' : 'must be an object') },
);

/** A pattern that also takes the empty string (a field a household terminal's allocation fills in). */
const orEmpty = (pattern: RegExp): RegExp => new RegExp(`^(?:${pattern.source.slice(1, -1)})?$`, pattern.flags);

/** Seed 001 units 24-25: the room gateway's allocation service, and the room the allocation must be of. */
const household = z.object(
  {
    gateway: text(/^(?:\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}|[A-Za-z][A-Za-z0-9_.@-]{0,14})$/, 'the room gateway as ADDRESS:PORT (such as 127.77.0.1:6767) or a network interface name').refine(
      (gateway) => !gateway.includes(':') || (gateway.split(':')[0]!.split('.').every((n) => Number(n) <= 255) && Number(gateway.split(':')[1]) >= 1 && Number(gateway.split(':')[1]) <= 65535),
      'must be an IPv4 address and a port 1-65535, or a network interface name',
    ),
    room: z.string({ error: 'must be a room number area-building-room such as 100-1101-1201' }).superRefine((room, ctx) => {
      try {
        const number = parseHouseholdNumber(room);
        if (number.terminal !== undefined) ctx.addIssue({ code: 'custom', message: `must be the room's number without the terminal (area-building-room), not ${room}` });
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a room number area-building-room such as 100-1101-1201' });
      }
    }),
  },
  { error: 'must be an object' },
);

/** The account as the settings view, the settings file and the command line may give it; unknown fields are dropped. */
const accountSchema = z.object(
  {
    id: text(/^[A-Za-z0-9._-]{1,64}$/, '1-64 letters, digits, . _ -'),
    // empty only for a household terminal: its allocation gives the number and the gateway (checked below)
    user: text(orEmpty(sipUser), 'a SIP user name (1-64 characters)'),
    server: text(orEmpty(/^sips?:[^\s]{1,300}$/i), 'a sip: URI such as sip:127.0.0.1:5060').superRefine((server, ctx) => {
      if (server === '') return;
      try {
        const uri = parseSipUri(server);
        if (uri.port !== undefined && (uri.port < 1 || uri.port > 65535)) throw new Error('port out of range');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `"${server}" is not a SIP URI: ${(error as Error).message}` });
      }
    }),
    transport: oneOf(['udp', 'tcp', 'ws', 'tls', 'wss']),
    tls: optional(
      z.object(
        {
          caFile: optional(text(/^[^\r\n\0]{1,4096}$/, 'a file path')),
          fingerprint: optional(text(/^(?:sha-?256[:\s]\s*)?(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/i, 'a SHA-256 fingerprint (32 bytes in hex, AB:CD:…)')),
          serverName: optional(text(/^[A-Za-z0-9.-]{1,253}$/, 'a host name')),
        },
        { error: 'must be an object' },
      ),
    ),
    // an empty display name is none
    displayName: optional(text(headerSafe, 'up to 64 characters without quotes or line breaks')).transform((name) => (name === '' ? undefined : name)),
    domain: optional(text(hostPort, 'host[:port]')),
    authUser: optional(text(sipUser, 'a user name')),
    password: optional(text(/^[^\r\n]{0,128}$/, 'up to 128 characters on one line')),
    registerExpires: optional(integer(30, 86_400, '30-86400 seconds')),
    localAddress: optional(text(ip, 'an IP address')),
    answer: optional(answer),
    anonymity: optional(
      z.object(
        {
          anonymous: z.boolean({ error: 'must be true or false' }),
          mode: oneOf(['prefix', 'header']),
          level: optional(oneOf(['id', 'full'])).transform((level) => level ?? 'id'),
        },
        { error: 'must be an object' },
      ),
    ),
    dialRules: optional(z.array(dialRule, { error: 'must be a list of at most 16 rules' }).max(16, 'must be a list of at most 16 rules')),
    address: optional(address),
    directCalls: optional(z.boolean({ error: 'must be true or false' })),
    doNotDisturb: optional(z.object({ status: z.union([z.literal(486), z.literal(603)], { error: 'must be 486 or 603' }) }, { error: 'must be an object' })),
    forward: optional(
      z.object(
        {
          when: oneOf(['always', 'busy', 'no-answer']),
          to: text(/^[^\s<>"\\]{1,256}$/, 'a number, user or SIP URI'),
          afterMs: optional(integer(1000, 300_000, '1000-300000')),
          by: optional(oneOf(['redirect', 'call'])),
        },
        { error: 'must be an object' },
      ),
    ),
    mediaEncryption: optional(oneOf(['required', 'preferred', 'off'])),
    latching: optional(oneOf(['on', 'off'])),
    mediaTimeout: optional(
      z.object(
        {
          seconds: optional(integer(0, mediaTimeoutMaxSeconds, `0 (off) or 1-${mediaTimeoutMaxSeconds} seconds`)),
          heldSeconds: optional(integer(0, mediaTimeoutMaxSeconds, `0 (off) or 1-${mediaTimeoutMaxSeconds} seconds`)),
        },
        { error: 'must be an object' },
      ),
    ),
    sessionExpires: optional(integer(0, maxSessionExpires, `0 (none) or 1-${maxSessionExpires} seconds`)),
    household: optional(household),
  },
  { error: 'must be an object' },
).superRefine((account, ctx) => {
  if (account.household === undefined) {
    if (account.user === '') ctx.addIssue({ code: 'custom', path: ['user'], message: 'must be a SIP user name (1-64 characters)' });
    if (account.server === '') ctx.addIssue({ code: 'custom', path: ['server'], message: 'must be a sip: URI such as sip:127.0.0.1:5060' });
  } else if (account.transport !== 'udp') {
    // docs/household.md: the room gateway is a UDP registrar and relay
    ctx.addIssue({ code: 'custom', path: ['transport'], message: 'must be udp for a household terminal (its room gateway speaks UDP)' });
  }
  // RFC 5630 §3: a SIPS URI asks for TLS on every hop, so its account must not speak in the clear.
  if (/^sips:/i.test(account.server) && account.transport !== 'tls' && account.transport !== 'wss') {
    ctx.addIssue({ code: 'custom', path: ['transport'], message: 'must be tls or wss for a sips: server' });
  }
  // Issue 18: SDES keys are offered only when the signalling to the next hop is TLS; never in the clear.
  if (account.mediaEncryption !== undefined && account.mediaEncryption !== 'off' && account.transport !== 'tls' && account.transport !== 'wss') {
    ctx.addIssue({ code: 'custom', path: ['mediaEncryption'], message: `cannot be ${account.mediaEncryption} over ${account.transport}: the SRTP keys would cross the network in the clear (use tls or wss)` });
  }
});

/** Keep-alive timings a phone can live with: a zero interval would spin, a NaN retry would never fail back. */
export function checkKeepalive(keepalive: NonNullable<AccountConfig['keepalive']>): void {
  const bounds: Array<[string, number | undefined, number, number]> = [
    ['intervalMs', keepalive.intervalMs, 50, 86_400_000],
    ['timeoutMs', keepalive.timeoutMs, 50, 600_000],
    ['primaryRetryMs', keepalive.primaryRetryMs, 100, 86_400_000],
  ];
  for (const [name, value, min, max] of bounds) {
    if (value === undefined && name === 'primaryRetryMs') continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw new PhoneError('INVALID_ARGUMENT', `keepalive.${name} must be a number of milliseconds from ${min} to ${max}`);
  }
}

/** Media timeouts a phone can live with: a NaN or negative one would end every call at its first look. */
export function checkMediaTimeout(timeout: NonNullable<AccountConfig['mediaTimeout']>): void {
  for (const [name, value] of [['seconds', timeout.seconds], ['heldSeconds', timeout.heldSeconds]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > mediaTimeoutMaxSeconds)) throw new PhoneError('INVALID_ARGUMENT', `mediaTimeout.${name} must be 0 (off) or 1-${mediaTimeoutMaxSeconds} seconds`);
  }
}

/** A session interval to ask for (RFC 4028): 0 asks for none; a NaN would make the INVITE unreadable. */
export function checkSessionExpires(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > maxSessionExpires) throw new PhoneError('INVALID_ARGUMENT', `sessionExpires must be 0 (none) or 1-${maxSessionExpires} seconds`);
}

/** `dialRules[0].prefix`, the way the message names a field. */
function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i > 0 ? '.' : ''}${String(part)}`)).join('') || 'account';
}

/** The value without its absent (undefined) fields, at every depth: what the optional fields above leave. */
function withoutAbsent<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutAbsent) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, withoutAbsent(v)])) as T;
}

/**
 * Check an account configuration from an untrusted source (the settings view over IPC or WebSocket, the settings file)
 * and return a clean copy with only the known fields. Every value that reaches a SIP header is checked so that it
 * cannot inject one. A refusal is INVALID_ARGUMENT naming the first bad field.
 */
export function checkAccountConfig(value: unknown): AccountConfig {
  const result = accountSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new PhoneError('INVALID_ARGUMENT', `${fieldPath(issue.path)} ${issue.message}`);
  }
  return withoutAbsent(result.data) as AccountConfig;
}
