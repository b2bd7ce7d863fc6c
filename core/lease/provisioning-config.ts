import { z } from 'zod';
import type { AccountConfig, AnonymityDefault, DialRule, TransportKind } from '../api/phone-types.js';
import type { MgcAddress } from './dhcp-options.js';
import { isIpv4 } from './ipv4.js';
import type { Lease } from './lease.js';
import { LeaseError } from './lease-error.js';

/**
 * The boot/config file a phone fetches by TFTP (seed 003 Fig. 5B 546-554), format 1, documented in
 * docs/provisioning.md: INI-style sections `[veilphone]`, `[account NAME]` (one or more) and `[dial_plan]`.
 */
export interface ProvisioningConfig {
  format: 1;
  /** `mgc` (the leased soft switches, the default) or explicit SIP URIs, primary first. */
  registrar: 'mgc' | string[];
  domain?: string;
  transport: TransportKind;
  registerExpires?: number;
  accounts: ProvisionedAccount[];
  dialPlan?: DialRule[];
}

export interface ProvisionedAccount {
  id: string;
  user: string;
  displayName?: string;
  authUser?: string;
  password?: string;
  transport?: TransportKind;
  registerExpires?: number;
  anonymity?: AnonymityDefault;
}

const sectionKeys: Record<'veilphone' | 'account', readonly string[]> = {
  veilphone: ['format', 'registrar', 'domain', 'transport', 'register_expires'],
  account: ['user', 'display_name', 'auth_user', 'password', 'transport', 'register_expires', 'anonymous', 'anonymity_mode', 'anonymity_level'],
};

/** A value that must be one of `options` (any case), read in lower case; the message names the key (and the value). */
const choice = <const T extends readonly string[]>(key: string, options: T, words: string, showValue = false) =>
  z
    .string()
    .refine((v) => options.includes(v.toLowerCase()), { error: (issue) => `${key}${showValue ? ` "${String(issue.input)}"` : ''} must be ${words}` })
    .transform((v) => v.toLowerCase() as T[number]);
const transport = choice('transport', ['udp', 'tcp', 'ws'], 'udp, tcp or ws', true);
const seconds = z
  .string()
  .refine((v) => Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= 86_400 * 7, { error: (issue) => `register_expires "${String(issue.input)}" must be 1-604800 seconds` })
  .transform(Number);

/** `[veilphone]`: the file's format, where to register, the defaults of its accounts. */
const veilphoneSection = z.object({
  format: z.string({ error: 'missing [veilphone] with "format = 1"' }).refine((v) => v === '1', { error: (issue) => `format ${String(issue.input)} is not supported (only 1)` }),
  registrar: z
    .string()
    .transform((v, ctx): ProvisioningConfig['registrar'] => {
      if (v.toLowerCase() === 'mgc') return 'mgc';
      const uris = v.split(',').map((u) => u.trim());
      if (uris.length > 2 || uris.some((u) => !/^sip:[^\s;]+(:\d+)?$/i.test(u))) ctx.addIssue({ code: 'custom', message: 'registrar must be "mgc" or one or two sip:host[:port] URIs, comma separated' });
      return uris;
    })
    .optional(),
  domain: z.string().optional(),
  transport: transport.optional(),
  register_expires: seconds.optional(),
});

/** `[account NAME]`: one account (its user defaults to NAME). */
const accountSection = z.object({
  user: z.string().regex(/^[A-Za-z0-9._~+-]{1,64}$/, { error: (issue) => `user "${String(issue.input)}" is not a plain SIP user name` }),
  display_name: z.string().optional(),
  auth_user: z.string().optional(),
  password: z.string().optional(),
  transport: transport.optional(),
  register_expires: seconds.optional(),
  anonymous: choice('anonymous', ['yes', 'no'], 'yes or no').optional(),
  anonymity_mode: choice('anonymity_mode', ['header', 'prefix'], 'header or prefix').optional(),
  anonymity_level: choice('anonymity_level', ['id', 'full'], 'id or full').optional(),
});

/** A `[dial_plan]` line: `184 = withhold Caller ID withheld`. */
const dialPlanEntry = z.object({
  prefix: z.string().regex(/^[0-9*#+]{1,8}$/, { error: (issue) => `dial prefix "${String(issue.input)}" must be 1-8 digits, * # or +` }),
  action: z.enum(['withhold', 'present'], { error: (issue) => `dial plan action "${String(issue.input)}" must be withhold or present` }),
});

type Entries = Record<string, { value: string; line: number }>;

/** A section's values checked by `schema`; a refusal names the line of the offending key (or `line` when it is missing). */
function checked<T extends z.ZodType>(schema: T, entries: Entries, line: number, defaults: Record<string, string> = {}): z.output<T> {
  const result = schema.safeParse({ ...defaults, ...Object.fromEntries(Object.entries(entries).map(([key, entry]) => [key, entry.value])) });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path[0];
  throw new LeaseError('BAD_CONFIG', `line ${typeof key === 'string' ? (entries[key]?.line ?? line) : line}: ${issue.message}`);
}

/**
 * Reads a provisioning file. Strict on purpose: an unknown section or key, a bad value or a missing account is a
 * LeaseError BAD_CONFIG naming the line, so a typo in the operator's file is found at boot, not at the first call.
 * The lines are read here; the values are checked by the zod schemas above.
 */
export function parseProvisioningConfig(text: string): ProvisioningConfig {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const fail = (line: number, why: string): never => {
    throw new LeaseError('BAD_CONFIG', `line ${line}: ${why}`);
  };
  let section: { kind: 'veilphone' | 'account' | 'dial_plan'; name?: string; line: number } | undefined;
  const global: Entries = {};
  const accounts: Array<{ name: string; line: number; keys: Entries }> = [];
  const dialPlan: DialRule[] = [];
  let sawDialPlan = false;
  lines.forEach((raw, index) => {
    const n = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[\s*([a-z_]+)(?:\s+([^\]\s]+))?\s*\]$/i.exec(line);
    if (header) {
      const kind = header[1]!.toLowerCase();
      if (kind === 'veilphone' && !header[2]) section = { kind, line: n };
      else if (kind === 'account' && header[2]) {
        if (accounts.some((a) => a.name === header[2])) fail(n, `account "${header[2]}" appears twice`);
        section = { kind, name: header[2], line: n };
        accounts.push({ name: header[2], line: n, keys: {} });
      } else if (kind === 'dial_plan' && !header[2]) {
        section = { kind, line: n };
        sawDialPlan = true;
      } else fail(n, `unknown section [${header[1]}${header[2] ? ` ${header[2]}` : ''}] (expected [veilphone], [account NAME] or [dial_plan])`);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) fail(n, `expected "key = value", got "${line.slice(0, 40)}"`);
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    if (!section) return fail(n, 'a setting before any section');
    if (section.kind === 'dial_plan') {
      // 184 = withhold Caller ID withheld
      const [action, ...label] = value.split(/\s+/);
      const entry = checked(dialPlanEntry, { prefix: { value: key, line: n }, action: { value: action ?? '', line: n } }, n);
      dialPlan.push({ prefix: entry.prefix, action: entry.action, label: label.join(' ') || (entry.action === 'withhold' ? 'Withhold caller ID' : 'Show caller ID') });
      return;
    }
    if (!sectionKeys[section.kind].includes(key)) fail(n, `unknown key "${key}" in [${section.kind}]`);
    const target = section.kind === 'veilphone' ? global : accounts.at(-1)!.keys;
    if (key in target) fail(n, `"${key}" set twice`);
    target[key] = { value, line: n };
  });

  const settings = checked(veilphoneSection, global, 1);
  const defaultTransport = settings.transport ?? 'udp';
  const defaultExpires = settings.register_expires;
  if (accounts.length === 0) fail(lines.length, 'no [account NAME] section');
  const parsedAccounts = accounts.map((a): ProvisionedAccount => {
    const k = checked(accountSection, a.keys, a.line, { user: a.name });
    let anonymity: AnonymityDefault | undefined;
    if (k.anonymous !== undefined || k.anonymity_mode !== undefined || k.anonymity_level !== undefined) {
      anonymity = { anonymous: (k.anonymous ?? 'no') === 'yes', mode: k.anonymity_mode ?? 'header', level: k.anonymity_level ?? 'id' };
    }
    const expires = k.register_expires ?? defaultExpires;
    return {
      id: a.name,
      user: k.user,
      ...(k.display_name ? { displayName: k.display_name } : {}),
      ...(k.auth_user ? { authUser: k.auth_user } : {}),
      ...(k.password ? { password: k.password } : {}),
      ...(k.transport ? { transport: k.transport } : {}),
      ...(expires !== undefined ? { registerExpires: expires } : {}),
      ...(anonymity ? { anonymity } : {}),
    };
  });
  return {
    format: 1,
    registrar: settings.registrar ?? 'mgc',
    ...(settings.domain ? { domain: settings.domain } : {}),
    transport: defaultTransport,
    ...(defaultExpires !== undefined ? { registerExpires: defaultExpires } : {}),
    accounts: parsedAccounts,
    ...(sawDialPlan ? { dialPlan } : {}),
  };
}

/** What provisioning gives the phone: its accounts and where to register, ready for `Phone` and `MgcSelector`. */
export interface ProvisioningResult {
  accounts: AccountConfig[];
  /** The soft switches, primary first: from the config's registrar, else from the lease (option 225). */
  mgc: MgcAddress[];
  registrarSource: 'config' | 'lease';
  dialRules?: DialRule[];
  /** The phone's private address (the lease) and the NAT's public one, for the REGISTER (docs/provisioning.md). */
  privateAddress?: string;
  natAddress?: string;
}

/**
 * Turns a provisioning file and the lease into account settings (Fig. 5B 590: "execute the boot image"). Pure.
 * Each account registers at the primary soft switch; failover to the secondary is the MgcSelector's job.
 */
export function applyProvisioning(config: ProvisioningConfig, lease?: Pick<Lease, 'mgc' | 'address' | 'natAddress'>): ProvisioningResult {
  let mgc: MgcAddress[];
  let registrarSource: ProvisioningResult['registrarSource'];
  if (config.registrar === 'mgc') {
    if (!lease || lease.mgc.length === 0) throw new LeaseError('NO_MGC', 'the config says "registrar = mgc" but the lease names no soft switch');
    mgc = lease.mgc.map((m) => ({ ...m }));
    registrarSource = 'lease';
  } else {
    mgc = config.registrar.map(parseSipHostPort);
    registrarSource = 'config';
  }
  const primary = mgc[0]!;
  const server = `sip:${hostText(primary.address)}:${primary.port}`;
  const accounts = config.accounts.map((a): AccountConfig => ({
    id: a.id,
    user: a.user,
    server,
    transport: a.transport ?? config.transport,
    ...(config.domain !== undefined ? { domain: config.domain } : {}),
    ...(a.displayName !== undefined ? { displayName: a.displayName } : {}),
    ...(a.authUser !== undefined ? { authUser: a.authUser } : {}),
    ...(a.password !== undefined ? { password: a.password } : {}),
    ...(a.registerExpires !== undefined ? { registerExpires: a.registerExpires } : {}),
    ...(a.anonymity !== undefined ? { anonymity: a.anonymity } : {}),
    ...(config.dialPlan !== undefined ? { dialRules: config.dialPlan.map((r) => ({ ...r })) } : {}),
  }));
  return {
    accounts,
    mgc,
    registrarSource,
    ...(config.dialPlan !== undefined ? { dialRules: config.dialPlan.map((r) => ({ ...r })) } : {}),
    ...(lease?.address !== undefined ? { privateAddress: lease.address } : {}),
    ...(lease?.natAddress !== undefined ? { natAddress: lease.natAddress } : {}),
  };
}

function parseSipHostPort(uri: string): MgcAddress {
  const match = /^sip:(\[[^\]]+\]|[^:;]+)(?::(\d+))?$/i.exec(uri);
  if (!match) throw new LeaseError('BAD_CONFIG', `registrar "${uri}" is not sip:host[:port]`);
  const port = match[2] !== undefined ? Number(match[2]) : 5060;
  if (!(port > 0 && port < 65536)) throw new LeaseError('BAD_CONFIG', `registrar "${uri}" has a bad port`);
  return { address: match[1]!.replace(/^\[|\]$/g, ''), port };
}

function hostText(address: string): string {
  return address.includes(':') && !isIpv4(address) ? `[${address}]` : address;
}
