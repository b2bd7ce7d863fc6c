import { randomBytes } from 'node:crypto';
import { mediaTimeoutMaxSeconds } from '../core/phone/media-timeout.js';
import { mediaTimeoutOption } from './media-timeout-option.js';
import fs from 'node:fs';
import http from 'node:http';
import type { AccountConfig, TransportKind } from '../core/api/phone-types.js';
import { settingsPath } from '../core/phone/account-store.js';
import { callLogPath, prepareDataDir } from '../core/phone/data-dir.js';
import { Phone } from '../core/phone/phone.js';
import { allocateHouseholdTerminal, type HouseholdTerminal } from '../core/phone/household-phone.js';
import { provisionedAccount, provisionPhone, type ProvisionedPhone } from '../core/phone/provision-phone.js';
import { Lab } from '../lab/lab.js';
import { provisioningLab } from '../lab/service-gateway/lab-boot-file.js';
import { parseVerificationKeyFile, type VerificationKeyFile } from '../core/signing/key-ring.js';
import { exitCodes } from './exit-codes.js';
import { portInUseMessage } from './port-in-use.js';
import { defaultMediaProvider } from '../core/phone/default-media.js';
import type { SigningProxySource } from '../core/phone/signing-proxy-counters.js';
import { attachPhoneWsBridge } from './phone-ws-bridge.js';
import { ensureRendererBundle } from './renderer-bundle.js';
import { answerSessionCheck } from './session-check.js';
import { serveStatic } from './static-files.js';

export interface ServeCommandOptions {
  dataDir: string;
  /** HTTP port for the UI (0 = any free port). */
  port: string;
  /** A SIP server to use; without it the embedded lab starts. */
  server?: string;
  user: string;
  /** Whether the user name was given (not the default): a provisioned phone otherwise takes its boot file's account. */
  userGiven?: boolean;
  display?: string;
  password?: string;
  transport: string;
  json?: boolean;
  /** The embedded lab signs routing headers (seed 002). */
  signing?: boolean;
  /** A verification key file to check signatures with (`veilphone lab --keys-out`). */
  signingKeys?: string;
  /** The signing proxy's admin view (`veilphone lab --admin`'s URL with its token): its failure counters in the pane. */
  labAdmin?: string;
  /**
   * `dhcp`: the phone leases its address and port range from the embedded lab's service gateway and takes its soft
   * switches and dial plan from the boot file (seed 003, SPEC C); `static` (the default): no lease.
   */
  provision?: string;
  /**
   * Seed 001: run as a household terminal of the room whose gateway takes allocation requests at ADDRESS:PORT (a lab's
   * `veilphone lab --household`) or on this network interface: the gateway gives address, number and server.
   */
  household?: string;
  /** With `provision: dhcp`: lease from the DHCP servers on this network interface instead of the embedded lab. */
  dhcpInterface?: string;
  /** Seconds without RTP or RTCP from the far end after which an answered call is ended (0: off; default 30). */
  mediaTimeout?: string;
  /** Print the ready line only (used by `veilphone start`). */
  banner?: (url: string, lab: Lab | undefined) => void | Promise<void>;
}

/**
 * `veilphone serve`: the Phone service and the renderer for a browser on 127.0.0.1, with PhoneApi over a
 * WebSocket (the browser-served twin of the Electron app, used by the end-to-end tests). Runs until killed.
 */
export async function serveCommand(options: ServeCommandOptions): Promise<void> {
  const transport = options.transport as TransportKind;
  if (!['udp', 'tcp', 'ws', 'tls', 'wss'].includes(transport)) fail(exitCodes.invalid, `--transport must be udp, tcp, ws, tls or wss, got "${options.transport}"`);
  const secure = transport === 'tls' || transport === 'wss';
  const port = Number(options.port);
  if (!/^\d{1,5}$/.test(options.port) || port > 65535) fail(exitCodes.invalid, `--port must be a port number, got "${options.port}"`);

  const mediaTimeout = options.mediaTimeout === undefined ? undefined : mediaTimeoutOption(options.mediaTimeout);
  if (options.mediaTimeout !== undefined && !mediaTimeout) fail(exitCodes.invalid, `--media-timeout must be 0 (off) or 1-${mediaTimeoutMaxSeconds} seconds, got "${options.mediaTimeout}"`);

  const provision = options.provision ?? 'static';
  if (provision !== 'static' && provision !== 'dhcp') fail(exitCodes.invalid, `--provision must be static or dhcp, got "${provision}"`);
  if (provision === 'dhcp' && options.server !== undefined) fail(exitCodes.invalid, '--provision dhcp takes the soft switches from provisioning; leave out --server');
  if (provision === 'dhcp' && transport !== 'udp') fail(exitCodes.invalid, '--provision dhcp: the leased soft switches speak UDP; use --transport udp');
  const dhcpInterface = options.dhcpInterface;
  if (dhcpInterface !== undefined && provision !== 'dhcp') fail(exitCodes.invalid, '--dhcp-interface names where to lease from: add --provision dhcp');
  if (dhcpInterface !== undefined && options.signing) fail(exitCodes.invalid, '--signing is the embedded lab\'s, and --dhcp-interface leases from the network instead');

  const householdSource = options.household;
  if (householdSource !== undefined && (options.server !== undefined || provision !== 'static' || transport !== 'udp' || options.signing)) {
    fail(exitCodes.invalid, '--household: the room gateway gives address, number and server (UDP); leave out --server, --provision, --signing and --transport');
  }
  let lab: Lab | undefined;
  let server = options.server;
  let household: HouseholdTerminal | undefined;
  if (householdSource !== undefined) {
    // Seed 001 Fig. 8 steps 81, 86-87: the allocation request; the phone's shutdown is the deletion request
    const endpoint = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(householdSource);
    try {
      prepareDataDir(options.dataDir);
      household = await allocateHouseholdTerminal({ ...(endpoint ? { gateway: { address: endpoint[1]!, port: Number(endpoint[2]) } } : { interface: householdSource }), dataDir: options.dataDir });
    } catch (error) {
      fail(exitCodes.environment, `no allocation from the room gateway: ${(error as Error).message}`);
    }
    server = household.account.server;
  } else if (server === undefined && dhcpInterface === undefined) {
    try {
      lab = await Lab.start({
        ...(options.signing ? { signing: true } : {}),
        // issue 18: the lab's TLS and WSS listeners, with the certificate it keeps in the data dir
        ...(secure ? { tls: { dataDir: options.dataDir } } : {}),
        ...(provision === 'dhcp' ? provisioningLab : {}),
      });
    } catch (error) {
      fail(exitCodes.environment, `the embedded lab failed to start: ${(error as Error).message}`);
    }
    server = lab.servers[transport]!;
  }
  let provisioned: ProvisionedPhone | undefined;
  if (provision === 'dhcp') {
    try {
      prepareDataDir(options.dataDir);
      const source = dhcpInterface !== undefined ? { network: { interface: dhcpInterface } } : { gateway: lab!.serviceGateway!.endpoints };
      // a real network's DHCP server may take a while (RFC 2131 §4.1 retransmissions): say what the wait is for
      console.error(`provisioning: asking for a DHCP lease ${dhcpInterface !== undefined ? `on ${dhcpInterface}` : "from the embedded lab's service gateway"}, then the boot file by TFTP…`);
      provisioned = await provisionPhone({ ...source, dataDir: options.dataDir });
    } catch (error) {
      await lab?.stop();
      fail(exitCodes.environment, `provisioning failed: ${(error as Error).message}`);
    }
  }
  const account: AccountConfig = household
    ? { id: household.household.number, ...household.account, user: household.account.user!, household: { gateway: householdSource!, room: household.household.room } }
    : provisioned
      ? // the boot file's account for this user (or its first, when no user was given): its password, display name and
        // the operator's anonymity; what the command line says wins (below)
        provisionedAccount(provisioned, { id: options.user, user: options.user, server: provisioned.account.server, transport }, options.userGiven !== false)
      : { id: options.user, user: options.user, server: server!, transport };
  if (options.display !== undefined) account.displayName = options.display;
  if (options.password !== undefined) account.password = options.password;
  if (mediaTimeout) account.mediaTimeout = mediaTimeout;
  if (lab) account.domain = lab.domain;
  // the phone trusts its own lab by the fingerprint of the certificate the lab made (issue 18)
  if (lab?.certificate && secure) account.tls = { fingerprint: lab.certificate.fingerprint };

  let root: string;
  try {
    root = await ensureRendererBundle((line) => console.error(line));
  } catch (error) {
    fail(exitCodes.environment, `cannot build the UI: ${(error as Error).message}`);
  }
  try {
    prepareDataDir(options.dataDir);
  } catch (error) {
    await lab?.stop();
    fail(exitCodes.environment, `cannot use the data dir ${options.dataDir}: ${(error as Error).message}`);
  }
  const keyFile = options.signingKeys;
  const readKeys = (file: string): VerificationKeyFile[] => [parseVerificationKeyFile(fs.readFileSync(file, 'utf8'))];
  if (keyFile !== undefined) {
    try {
      readKeys(keyFile);
    } catch (error) {
      fail(exitCodes.invalid, `--signing-keys: ${(error as Error).message}`);
    }
  }
  // Read again each time a trace is shown (the lab rewrites the file as keys rotate); unreadable means no verdicts.
  const signatureKeys = keyFile !== undefined ? () => { try { return readKeys(keyFile); } catch { return undefined; } } : lab?.verificationKeys.bind(lab);
  // SPEC E: the pane shows the proxy's failure counters: the embedded lab's, or those of the lab whose admin view is given
  if (options.labAdmin !== undefined && !/^http:\/\/(127\.[\d.]+|\[::1\]|localhost)(:\d+)?\//.test(options.labAdmin)) fail(exitCodes.invalid, `--lab-admin must be the lab's admin URL on loopback (http://127.0.0.1:PORT/snapshot?token=…), got "${options.labAdmin}"`);
  const embeddedSigning = lab && options.signing ? lab : undefined;
  const signingProxy: SigningProxySource | undefined = options.labAdmin !== undefined ? { adminUrl: options.labAdmin } : embeddedSigning ? { name: 'the embedded lab', failures: () => embeddedSigning.snapshot().sip.signing?.failures } : undefined;
  const phone = new Phone({
    accounts: [account],
    callLogPath: callLogPath(options.dataDir),
    createSessionDescriptionHandlerFactory: defaultMediaProvider,
    // the UI's audio bridge carries the calls' audio (microphone in, far end out)
    audioPort: true,
    network: lab ? { kind: 'lab', servers: Object.values(lab.servers) } : { kind: 'external', servers: [account.server, ...(account.backupServers ?? [])] },
    settingsFile: settingsPath(options.dataDir),
    ...(signatureKeys ? { signatureKeys } : {}),
    ...(signingProxy ? { signingProxy } : {}),
    ...(provisioned ? { lease: provisioned.phoneLease } : household ? { lease: household.phoneLease } : {}),
    // the status bar shows the terminal's number, address and gateway (seed 001 ¶[55]-[57])
    ...(household ? { householdTerminals: [{ accountId: account.id, wanted: account.household!, terminal: household }] } : {}),
  });
  for (const problem of phone.settingsProblems) console.error(`settings: ${problem}`);

  const token = randomBytes(24).toString('base64url');
  const httpServer = http.createServer((request, response) => {
    if (!answerSessionCheck(request, response, token)) serveStatic(root, request, response);
  });
  let origin = '';
  attachPhoneWsBridge({ server: httpServer, api: phone, token, origins: () => [origin] });
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await phone.shutdown();
    await lab?.stop();
    fail(exitCodes.environment, portInUseMessage(error, [{ option: '--port', port, protocol: 'tcp' }]) ?? (error as Error).message);
  }
  const actual = (httpServer.address() as { port: number }).port;
  origin = `http://127.0.0.1:${actual}`;
  const url = `${origin}/?token=${token}`;
  let stopping = false;
  // A REGISTER that the shutdown abandons has not failed: nothing is said of it.
  void phone.register().catch((error: Error) => {
    if (!stopping) console.error(`registration failed: ${error.message}`);
  });

  if (options.json) console.log(JSON.stringify({ event: 'ready', url, sip: account.server, account: account.user, ...(lab ? { lab: lab.servers } : {}), ...(provisioned ? { lease: provisioned.summary } : {}), ...(household ? { household: household.household } : {}) }));
  else if (options.banner) await options.banner(url, lab);
  else {
    console.log(`Veilphone UI: ${url}`);
    console.log(`account ${account.user} on ${account.server}${lab ? ' (embedded lab)' : ''}`);
    if (household) console.log(`household terminal ${household.household.number} at ${household.household.address}, room gateway ${household.household.gateway}`);
    if (provisioned) console.log(`leased ${provisioned.lease.address}, ports ${provisioned.lease.portRange.min}-${provisioned.lease.portRange.max}, from ${dhcpInterface !== undefined ? `${provisioned.lease.serverId ?? 'the DHCP server'} on ${dhcpInterface}` : 'the lab\'s service gateway'}`);
    if (lab) console.log(`a second phone can join the lab: npx veilphone serve --server ${shellQuote(lab.servers[transport]!)} --user bob`);
  }

  const stop = async (): Promise<void> => {
    stopping = true;
    httpServer.close();
    await phone.shutdown(); // releases the lease too (RFC 2131 §4.4.6: the ports go back to the gateway)
    await lab?.stop();
    process.exit(exitCodes.ok);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

/** A word pasted into a POSIX shell as one argument: a SIP URI's `;transport=udp` would otherwise end the command. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function fail(code: number, message: string): never {
  console.error(`veilphone serve: ${message}`);
  process.exit(code);
}
