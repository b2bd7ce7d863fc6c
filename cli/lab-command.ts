import fs from 'node:fs';
import { openPrivateFile, writePrivateFileAtomic } from '../core/files/private-files.js';
import { AdminServer } from '../lab/admin-server.js';
import { Lab } from '../lab/lab.js';
import { LabNetwork, type NetworkPlacement } from '../lab/lab-network.js';
import { parseTrustedLink, type TrustedLink } from '../lab/signing/link-trust.js';
import type { TamperKind } from '../lab/signing/tamperer.js';
import { exitCodes } from './exit-codes.js';
import { portInUseMessage, type PortOption } from './port-in-use.js';

export interface LabCommandOptions {
  udp: string;
  tcp: string;
  ws: string;
  /** SIP over TLS and secure WebSocket ports; the certificate is kept in `dataDir`. */
  tls?: string;
  wss?: string;
  /** Where the lab keeps its TLS certificate and its household database. */
  dataDir?: string;
  address: string;
  auth?: boolean;
  user?: string[];
  json?: boolean;
  /** Port of the read-only admin endpoint on 127.0.0.1 (bindings, conversion tables, counters); off when absent. */
  admin?: string;
  /** Append every SIP message the lab sends and receives to this file, one JSON object per line. */
  trace?: string;
  signing?: boolean;
  /** With `signing`: server links the proxy trusts (no signing toward them, no checks of what comes from them). */
  trusted?: string[];
  keysOut?: string;
  /** With `signing`: fault injection on every link toward the proxy (lab/signing/tamperer.ts), for third-party phones. */
  tamper?: string;
  /** With `tamper`: only these links are forged on (`ADDRESS[:PORT]`, as `trusted`), e.g. one third-party phone's. */
  tamperLink?: string[];
  /** Domains the lab serves (repeatable); two or more make a network of peered proxies, one per domain. */
  domain?: string[];
  /** Where anonymous calls are converted (seed 000 Embodiments 2-5), or `off`. */
  conversion?: string;
  /** With `--conversion carrier`: the carrier's top-level domain. */
  carrierDomain?: string;
  maxConnections?: string;
  maxConnectionsPerSource?: string;
  maxUsers?: string;
  /** Seed 001 rooms, `ROOM=ADDRESSES` (repeatable): a household building; its database goes in `dataDir`. */
  household?: string[];
}

const placements: NetworkPlacement[] = ['caller-server', 'callee-server', 'both', 'carrier', 'off'];

/** `veilphone lab`: run until SIGINT/SIGTERM, print one ready line. */
export async function labCommand(options: LabCommandOptions): Promise<void> {
  const ports = { udp: portOption(options.udp, '--udp'), tcp: portOption(options.tcp, '--tcp'), ws: portOption(options.ws, '--ws') };
  const secure = { ...(options.tls !== undefined ? { tls: portOption(options.tls, '--tls') } : {}), ...(options.wss !== undefined ? { wss: portOption(options.wss, '--wss') } : {}) };
  const secureOn = options.tls !== undefined || options.wss !== undefined;
  if (secureOn && options.dataDir === undefined) {
    console.error('veilphone lab: --tls and --wss keep the lab\'s certificate in --data-dir: give one');
    process.exit(exitCodes.invalid);
  }
  const users = options.user ? Object.fromEntries(options.user.map(parseUser)) : undefined;
  const adminPort = options.admin !== undefined ? portOption(options.admin, '--admin') : undefined;
  const maxConnections = countOption(options.maxConnections, '--max-connections');
  const maxPerSource = countOption(options.maxConnectionsPerSource, '--max-connections-per-source');
  const maxUsers = countOption(options.maxUsers, '--max-users');
  let trusted: TrustedLink[] = [];
  try {
    trusted = (options.trusted ?? []).map(parseTrustedLink);
  } catch (error) {
    console.error(`veilphone lab: --trusted: ${(error as Error).message}`);
    process.exit(exitCodes.invalid);
  }
  const tamperKinds: readonly TamperKind[] = ['via', 'record_route', 'route_set', 'replay'];
  if (options.tamper !== undefined && (!options.signing || !tamperKinds.includes(options.tamper as TamperKind))) {
    console.error(`veilphone lab: --tamper takes ${tamperKinds.join(', ')} and needs --signing`);
    process.exit(exitCodes.invalid);
  }
  let tamperLinks: TrustedLink[] | undefined;
  try {
    tamperLinks = options.tamperLink?.map(parseTrustedLink);
  } catch (error) {
    console.error(`veilphone lab: --tamper-link: ${(error as Error).message.replace('trusted link', 'link')}`);
    process.exit(exitCodes.invalid);
  }
  if (tamperLinks !== undefined && options.tamper === undefined) {
    console.error('veilphone lab: --tamper-link names the links to forge on: add --tamper');
    process.exit(exitCodes.invalid);
  }
  if (trusted.length > 0 && !options.signing) {
    console.error('veilphone lab: --trusted names links for signing: add --signing');
    process.exit(exitCodes.invalid);
  }
  const placement = options.conversion as NetworkPlacement | undefined;
  if (placement !== undefined && !placements.includes(placement)) {
    console.error(`veilphone lab: --conversion must be one of ${placements.join(', ')}, got "${placement}"`);
    process.exit(exitCodes.invalid);
  }
  const rooms = householdOption(options.household);
  const domains = options.domain ?? [];
  if (domains.length >= 2) return networkCommand(options, domains, placement ?? 'caller-server', users);
  // The lab's trace and its keys are readable by their owner only (issue 17), like the phone's call log.
  const trace = options.trace !== undefined ? openPrivateFile(options.trace, 'a') : undefined;
  let lab: Lab;
  let admin: AdminServer | undefined;
  try {
    lab = await Lab.start({
      address: options.address,
      ...ports,
      ...(secureOn ? { tls: { ...secure, dataDir: options.dataDir! } } : {}),
      ...(users ? { users } : {}),
      ...(options.auth ? { auth: true } : {}),
      ...(options.signing ? { signing: trusted.length > 0 ? { trusted } : true } : {}),
      ...(options.tamper !== undefined ? { tamper: options.tamper as TamperKind } : {}),
      ...(tamperLinks !== undefined ? { tamperLinks } : {}),
      ...(domains.length === 1 ? { domains } : {}),
      // One proxy: whatever the placement, it is the caller's, the callee's and the carrier's server at once.
      ...(placement === 'off' ? { conversion: false as const } : placement !== undefined ? { conversion: { placement, ...(options.carrierDomain !== undefined ? { domain: options.carrierDomain } : {}) } } : {}),
      ...(trace !== undefined ? { tap: (entry) => fs.writeSync(trace, `${JSON.stringify(entry)}\n`) } : {}),
      ...(maxConnections !== undefined || maxPerSource !== undefined
        ? { connectionLimits: { ...(maxConnections !== undefined ? { maxConnections } : {}), ...(maxPerSource !== undefined ? { maxPerSource } : {}) } }
        : {}),
      ...(maxUsers !== undefined ? { registrarLimits: { maxUsers } } : {}),
      // Seed 001: the management server keeps its address database in the data dir, so a restart forgets nothing
      ...(rooms ? { household: { rooms, ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}) } } : {}),
    });
    if (adminPort !== undefined) {
      const snapshot = (): ReturnType<Lab['snapshot']> => lab.snapshot();
      admin = await AdminServer.start({
        port: adminPort,
        routes: {
          '/snapshot': snapshot,
          '/bindings': () => snapshot().sip.bindings,
          '/household': () => snapshot().household?.management ?? null,
          '/conversion': (query) => {
            const who = query.get('identify');
            return who ? (lab.sip.conversion?.identify(who) ?? null) : (snapshot().sip.conversion ?? null);
          },
        },
      });
    }
  } catch (error) {
    const asked: PortOption[] = [
      { option: '--udp', port: ports.udp, protocol: 'udp' },
      { option: '--tcp', port: ports.tcp, protocol: 'tcp' },
      { option: '--ws', port: ports.ws, protocol: 'tcp' },
      ...(adminPort !== undefined ? [{ option: '--admin', port: adminPort, protocol: 'tcp' as const }] : []),
    ];
    console.error(`veilphone lab: cannot start: ${portInUseMessage(error, asked) ?? (error as Error).message}`);
    process.exit(exitCodes.environment);
  }
  if (options.signing) {
    // seed 002 ¶[0026]: the administrator hears of a signature failure rate above the threshold.
    lab.onSigningAlert((alert) => {
      const text = `signature failures: ${alert.perSecond} in the last second (threshold ${alert.threshold}); last: ${alert.last.verdict} ${alert.last.family} from ${alert.last.from}: ${alert.last.message}`;
      console.log(options.json ? JSON.stringify({ event: 'signing-alert', ...alert }) : `ALERT ${text}`);
    });
    if (options.keysOut) {
      const keysOut = options.keysOut;
      const write = (): void => writePrivateFileAtomic(keysOut, `${JSON.stringify(lab.verificationKeys()[0], null, 2)}\n`);
      write();
      setInterval(write, 30_000).unref();
    }
  }
  const actual = lab.sip.ports;
  const adminUrl = admin ? `${admin.url}snapshot?token=${admin.token}` : undefined;
  const fingerprint = lab.certificate?.fingerprint;
  if (options.json) {
    console.log(JSON.stringify({ event: 'ready', address: options.address, udp: actual.udp, tcp: actual.tcp, ws: actual.ws, ...(actual.tls !== undefined ? { tls: actual.tls } : {}), ...(actual.wss !== undefined ? { wss: actual.wss } : {}), ...(fingerprint ? { fingerprint } : {}), ...(adminUrl ? { admin: adminUrl } : {}), ...(options.signing ? { signing: true } : {}) }));
  } else {
    const secureText = `${actual.tls !== undefined ? `, tls ${actual.tls}` : ''}${actual.wss !== undefined ? `, wss ${actual.wss}` : ''}`;
    console.log(`veilphone lab ready on ${options.address}: udp ${actual.udp}, tcp ${actual.tcp}, ws ${actual.ws}${secureText}${adminUrl ? `; admin ${adminUrl}` : ''}`);
    if (fingerprint) console.log(`TLS certificate SHA-256 fingerprint ${fingerprint}${lab.certificate!.created ? ' (made now)' : ''}`);
  }
  const stop = async (): Promise<void> => {
    await admin?.stop();
    await lab.stop();
    if (trace !== undefined) fs.closeSync(trace);
    process.exit(exitCodes.ok);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

/** `--household 100-1101-1201=4 …`: the rooms and their first number of addresses; a bad one exits `invalid`. */
function householdOption(values: string[] | undefined): Record<string, number> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const rooms: Record<string, number> = {};
  for (const value of values) {
    const match = /^(\d{1,8}-\d{1,8}-\d{1,8})=(\d{1,3})$/.exec(value);
    if (!match || Number(match[2]) < 2 || Number(match[2]) > 256) {
      console.error(`veilphone lab: --household wants ROOM=ADDRESSES such as 100-1101-1201=4 (2-256 addresses), got "${value.slice(0, 40)}"`);
      process.exit(exitCodes.invalid);
    }
    rooms[match[1]!] = Number(match[2]);
  }
  return rooms;
}

/**
 * `veilphone lab --domain A --domain B …`: one proxy per domain on free ports of `--address`, peered, converting where
 * `--conversion` says (seed 000 Embodiments 2-5; `carrier` adds the carrier's proxy between them).
 */
async function networkCommand(options: LabCommandOptions, domains: string[], placement: NetworkPlacement, users: Record<string, { password?: string }> | undefined): Promise<void> {
  if (options.signing) {
    console.error('veilphone lab: --signing needs a single domain');
    process.exit(exitCodes.invalid);
  }
  const trace = options.trace !== undefined ? openPrivateFile(options.trace, 'a') : undefined;
  let network: LabNetwork;
  let admin: AdminServer | undefined;
  try {
    network = await LabNetwork.start({
      address: options.address,
      domains: Object.fromEntries(domains.map((d) => [d, users ? { users } : {}])),
      placement,
      ...(options.carrierDomain !== undefined ? { carrierDomain: options.carrierDomain } : {}),
      ...(options.auth ? { auth: true } : {}),
      ...(trace !== undefined ? { tap: (entry) => fs.writeSync(trace, `${JSON.stringify(entry)}\n`) } : {}),
    });
    if (options.admin !== undefined) {
      admin = await AdminServer.start({
        port: portOption(options.admin, '--admin'),
        routes: { '/snapshot': () => network.snapshot(), '/conversion': (query) => (query.get('identify') ? (network.identify(query.get('identify')!) ?? null) : network.snapshot()) },
      });
    }
  } catch (error) {
    console.error(`veilphone lab: cannot start: ${(error as Error).message}`);
    process.exit(exitCodes.environment);
  }
  const ports = Object.fromEntries([...network.labs].map(([domain, lab]) => [domain, lab.sip.ports]));
  const adminUrl = admin ? `${admin.url}snapshot?token=${admin.token}` : undefined;
  if (options.json) console.log(JSON.stringify({ event: 'ready', address: options.address, placement, domains: ports, ...(adminUrl ? { admin: adminUrl } : {}) }));
  else console.log(`veilphone lab ready on ${options.address} (${placement}): ${Object.entries(ports).map(([d, p]) => `${d} udp ${p.udp}, tcp ${p.tcp}, ws ${p.ws}`).join('; ')}${adminUrl ? `; admin ${adminUrl}` : ''}`);
  const stop = async (): Promise<void> => {
    await admin?.stop();
    await network.stop();
    if (trace !== undefined) fs.closeSync(trace);
    process.exit(exitCodes.ok);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

function portOption(text: string, name: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    console.error(`veilphone lab: ${name} must be a port number (0-65535), got "${text}"`);
    process.exit(exitCodes.invalid);
  }
  return Number(text);
}

function countOption(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1) {
    console.error(`veilphone lab: ${name} must be a whole number from 1 to 9999999, got "${text}"`);
    process.exit(exitCodes.invalid);
  }
  return Number(text);
}

function parseUser(text: string): [string, { password?: string }] {
  const colon = text.indexOf(':');
  return colon < 0 ? [text, {}] : [text.slice(0, colon), { password: text.slice(colon + 1) }];
}
