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

const transports: readonly TransportKind[] = ['udp', 'tcp', 'ws'];
const sectionKeys: Record<'veilphone' | 'account', readonly string[]> = {
  veilphone: ['format', 'registrar', 'domain', 'transport', 'register_expires'],
  account: ['user', 'display_name', 'auth_user', 'password', 'transport', 'register_expires', 'anonymous', 'anonymity_mode', 'anonymity_level'],
};

/**
 * Reads a provisioning file. Strict on purpose: an unknown section or key, a bad value or a missing account is a
 * LeaseError BAD_CONFIG naming the line, so a typo in the operator's file is found at boot, not at the first call.
 */
export function parseProvisioningConfig(text: string): ProvisioningConfig {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const fail = (line: number, why: string): never => {
    throw new LeaseError('BAD_CONFIG', `line ${line}: ${why}`);
  };
  let section: { kind: 'veilphone' | 'account' | 'dial_plan'; name?: string; line: number } | undefined;
  const global: Record<string, { value: string; line: number }> = {};
  const accounts: Array<{ name: string; line: number; keys: Record<string, { value: string; line: number }> }> = [];
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
      if (!/^[0-9*#+]{1,8}$/.test(key)) fail(n, `dial prefix "${key}" must be 1-8 digits, * # or +`);
      const [action, ...label] = value.split(/\s+/);
      if (action !== 'withhold' && action !== 'present') fail(n, `dial plan action "${action}" must be withhold or present`);
      dialPlan.push({ prefix: key, action: action as DialRule['action'], label: label.join(' ') || (action === 'withhold' ? 'Withhold caller ID' : 'Show caller ID') });
      return;
    }
    if (!sectionKeys[section.kind].includes(key)) fail(n, `unknown key "${key}" in [${section.kind}]`);
    const target = section.kind === 'veilphone' ? global : accounts.at(-1)!.keys;
    if (key in target) fail(n, `"${key}" set twice`);
    target[key] = { value, line: n };
  });

  if (!global.format) fail(1, 'missing [veilphone] with "format = 1"');
  if (global.format!.value !== '1') fail(global.format!.line, `format ${global.format!.value} is not supported (only 1)`);
  const transport = (entry: { value: string; line: number } | undefined, fallback: TransportKind): TransportKind => {
    if (!entry) return fallback;
    const t = entry.value.toLowerCase() as TransportKind;
    if (!transports.includes(t)) fail(entry.line, `transport "${entry.value}" must be udp, tcp or ws`);
    return t;
  };
  const seconds = (entry: { value: string; line: number } | undefined): number | undefined => {
    if (!entry) return undefined;
    const v = Number(entry.value);
    if (!Number.isInteger(v) || v < 1 || v > 86_400 * 7) fail(entry.line, `register_expires "${entry.value}" must be 1-604800 seconds`);
    return v;
  };
  let registrar: ProvisioningConfig['registrar'] = 'mgc';
  if (global.registrar && global.registrar.value.toLowerCase() !== 'mgc') {
    const uris = global.registrar.value.split(',').map((u) => u.trim());
    if (uris.length > 2 || uris.some((u) => !/^sip:[^\s;]+(:\d+)?$/i.test(u))) fail(global.registrar.line, 'registrar must be "mgc" or one or two sip:host[:port] URIs, comma separated');
    registrar = uris;
  }
  const defaultTransport = transport(global.transport, 'udp');
  const defaultExpires = seconds(global.register_expires);
  if (accounts.length === 0) fail(lines.length, 'no [account NAME] section');
  const parsedAccounts = accounts.map((a): ProvisionedAccount => {
    const k = a.keys;
    const user = k.user?.value ?? a.name;
    if (!/^[A-Za-z0-9._~+-]{1,64}$/.test(user)) fail(k.user?.line ?? a.line, `user "${user}" is not a plain SIP user name`);
    let anonymity: AnonymityDefault | undefined;
    if (k.anonymous || k.anonymity_mode || k.anonymity_level) {
      const anonymous = (k.anonymous?.value ?? 'no').toLowerCase();
      if (anonymous !== 'yes' && anonymous !== 'no') fail(k.anonymous!.line, 'anonymous must be yes or no');
      const mode = (k.anonymity_mode?.value ?? 'header').toLowerCase();
      if (mode !== 'header' && mode !== 'prefix') fail(k.anonymity_mode!.line, 'anonymity_mode must be header or prefix');
      const level = (k.anonymity_level?.value ?? 'id').toLowerCase();
      if (level !== 'id' && level !== 'full') fail(k.anonymity_level!.line, 'anonymity_level must be id or full');
      anonymity = { anonymous: anonymous === 'yes', mode: mode as AnonymityDefault['mode'], level: level as AnonymityDefault['level'] };
    }
    const expires = seconds(k.register_expires) ?? defaultExpires;
    return {
      id: a.name,
      user,
      ...(k.display_name ? { displayName: k.display_name.value } : {}),
      ...(k.auth_user ? { authUser: k.auth_user.value } : {}),
      ...(k.password ? { password: k.password.value } : {}),
      ...(k.transport ? { transport: transport(k.transport, defaultTransport) } : {}),
      ...(expires !== undefined ? { registerExpires: expires } : {}),
      ...(anonymity ? { anonymity } : {}),
    };
  });
  return {
    format: 1,
    registrar,
    ...(global.domain ? { domain: global.domain.value } : {}),
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
