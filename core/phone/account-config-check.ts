import { PhoneError } from '../api/phone-error.js';
import type { AccountConfig, AddressConfig, AnswerMode, DialRule } from '../api/phone-types.js';
import { parseSipUri } from '../sip/message/index.js';

type Fields = Record<string, unknown>;

function invalid(message: string): PhoneError {
  return new PhoneError('INVALID_ARGUMENT', message);
}

function object(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be an object`);
  return value as Fields;
}

function text(value: unknown, what: string, pattern: RegExp, hint: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw invalid(`${what} must be ${hint}`);
  return value;
}

function optional<T>(fields: Fields, key: string, read: (value: unknown) => T): T | undefined {
  return fields[key] === undefined || fields[key] === null ? undefined : read(fields[key]);
}

function oneOf<T extends string>(value: unknown, what: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) throw invalid(`${what} must be one of ${options.join(', ')}`);
  return value as T;
}

/** Text that goes into a SIP header: no line breaks, quotes or backslashes that could end or extend it (RFC 3261 §25.1). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
const headerSafe = /^[^\r\n"\\\u0000-\u001f\u007f]{0,64}$/;
const sipUser = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}$/;
const hostPort = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$/;
const ip = /^[0-9A-Fa-f.:]{2,45}$/;

/**
 * Check an account configuration from an untrusted source (the settings view over IPC or WebSocket, the settings file)
 * and return a clean copy with only the known fields. Every value that reaches a SIP header is checked so that it
 * cannot inject one.
 */
export function checkAccountConfig(value: unknown): AccountConfig {
  const f = object(value, 'account');
  const config: AccountConfig = {
    id: text(f.id, 'id', /^[A-Za-z0-9._-]{1,64}$/, '1-64 letters, digits, . _ -'),
    user: text(f.user, 'user', sipUser, 'a SIP user name (1-64 characters)'),
    server: text(f.server, 'server', /^sips?:[^\s]{1,300}$/i, 'a sip: URI such as sip:127.0.0.1:5060'),
    transport: oneOf(f.transport, 'transport', ['udp', 'tcp', 'ws'] as const),
  };
  try {
    const uri = parseSipUri(config.server);
    if (uri.port !== undefined && (uri.port < 1 || uri.port > 65535)) throw new Error('port out of range');
  } catch (error) {
    throw invalid(`server "${config.server}" is not a SIP URI: ${(error as Error).message}`);
  }
  const displayName = optional(f, 'displayName', (v) => text(v, 'displayName', headerSafe, 'up to 64 characters without quotes or line breaks'));
  if (displayName !== undefined && displayName.length > 0) config.displayName = displayName;
  const domain = optional(f, 'domain', (v) => text(v, 'domain', hostPort, 'host[:port]'));
  if (domain !== undefined) config.domain = domain;
  const authUser = optional(f, 'authUser', (v) => text(v, 'authUser', sipUser, 'a user name'));
  if (authUser !== undefined) config.authUser = authUser;
  const password = optional(f, 'password', (v) => text(v, 'password', /^[^\r\n]{0,128}$/, 'up to 128 characters on one line'));
  if (password !== undefined) config.password = password;
  const expires = optional(f, 'registerExpires', (v) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 30 || v > 86400) throw invalid('registerExpires must be 30-86400 seconds');
    return v;
  });
  if (expires !== undefined) config.registerExpires = expires;
  const localAddress = optional(f, 'localAddress', (v) => text(v, 'localAddress', ip, 'an IP address'));
  if (localAddress !== undefined) config.localAddress = localAddress;
  const answer = optional(f, 'answer', checkAnswer);
  if (answer !== undefined) config.answer = answer;
  const anonymity = optional(f, 'anonymity', (v) => {
    const a = object(v, 'anonymity');
    if (typeof a.anonymous !== 'boolean') throw invalid('anonymity.anonymous must be true or false');
    return { anonymous: a.anonymous, mode: oneOf(a.mode, 'anonymity.mode', ['prefix', 'header'] as const), level: oneOf(a.level ?? 'id', 'anonymity.level', ['id', 'full'] as const) };
  });
  if (anonymity !== undefined) config.anonymity = anonymity;
  const rules = optional(f, 'dialRules', checkDialRules);
  if (rules !== undefined) config.dialRules = rules;
  const address = optional(f, 'address', checkAddress);
  if (address !== undefined) config.address = address;
  const directCalls = optional(f, 'directCalls', (v) => {
    if (typeof v !== 'boolean') throw invalid('directCalls must be true or false');
    return v;
  });
  if (directCalls !== undefined) config.directCalls = directCalls;
  return config;
}

function checkAnswer(value: unknown): AnswerMode {
  const a = object(value, 'answer');
  const kind = oneOf(a.kind, 'answer.kind', ['manual', 'auto', 'reject'] as const);
  if (kind === 'manual') return { kind };
  if (kind === 'auto') {
    if (a.delayMs === undefined) return { kind };
    if (typeof a.delayMs !== 'number' || !Number.isInteger(a.delayMs) || a.delayMs < 0 || a.delayMs > 60_000) throw invalid('answer.delayMs must be 0-60000');
    return { kind, delayMs: a.delayMs };
  }
  if (typeof a.status !== 'number' || !Number.isInteger(a.status) || a.status < 300 || a.status > 699) throw invalid('answer.status must be 300-699');
  return { kind, status: a.status };
}

function checkDialRules(value: unknown): DialRule[] {
  if (!Array.isArray(value) || value.length > 16) throw invalid('dialRules must be a list of at most 16 rules');
  return value.map((rule, i) => {
    const r = object(rule, `dialRules[${i}]`);
    return {
      prefix: text(r.prefix, `dialRules[${i}].prefix`, /^[0-9*#]{1,8}$/, '1-8 of 0-9 * #'),
      action: oneOf(r.action, `dialRules[${i}].action`, ['withhold', 'present'] as const),
      label: text(r.label, `dialRules[${i}].label`, /^[^\r\n]{1,64}$/, '1-64 characters'),
    };
  });
}

function checkAddress(value: unknown): AddressConfig {
  const a = object(value, 'address');
  const mode = oneOf(a.mode, 'address.mode', ['fixed', 'temporary'] as const);
  if (mode === 'fixed') return { mode };
  const out: AddressConfig = { mode, source: oneOf(a.source, 'address.source', ['router-advertisement', 'interface', 'configured', 'dhcp', 'loopback'] as const) };
  const prefix = optional(a, 'prefix', (v) => text(v, 'address.prefix', /^[0-9A-Fa-f:]{2,39}\/64$/, 'an IPv6 /64 such as 2001:db8:1:2::/64'));
  if (prefix !== undefined) out.prefix = prefix;
  const iface = optional(a, 'interface', (v) => text(v, 'address.interface', /^[A-Za-z0-9_.@-]{1,15}$/, 'an interface name'));
  if (iface !== undefined) out.interface = iface;
  const applier = optional(a, 'applier', (v) => oneOf(v, 'address.applier', ['auto', 'kernel', 'signaling-only'] as const));
  if (applier !== undefined) out.applier = applier;
  const dad = optional(a, 'dad', (v) => oneOf(v, 'address.dad', ['optimistic', 'full', 'skip'] as const));
  if (dad !== undefined) out.dad = dad;
  const fallback = optional(a, 'fallback', (v) => oneOf(v, 'address.fallback', ['none', 'fixed'] as const));
  if (fallback !== undefined) out.fallback = fallback;
  const prepare = optional(a, 'prepare', (v) => oneOf(v, 'address.prepare', ['on-dial', 'ahead'] as const));
  if (prepare !== undefined) out.prepare = prepare;
  if (out.source === 'configured' && out.prefix === undefined) throw invalid('a configured address source needs a prefix');
  if (out.source === 'router-advertisement' && out.interface === undefined) throw invalid('router solicitation needs the interface');
  return out;
}
