import { Command, CommanderError } from 'commander';
import { defaultDataDir } from '../core/phone/data-dir.js';
import { exitCodes } from './exit-codes.js';
import { leaveLean } from './lean-start.js';

// Each command's module (and what it pulls in: the SIP stack, the lab, SQLite, the UI server) is loaded only when
// that command runs, so `veilphone --help` or `veilphone logs list` does not pay for the rest.
const lab = () => import('./lab-command.js');
const labAdmin = () => import('./lab-admin-command.js');
const logsCommands = () => import('./logs-command.js');
const run = () => import('./run-command.js');
const serve = () => import('./serve-command.js');
const start = () => import('./start-command.js');

const program = new Command()
  .name('veilphone')
  .description('Veilphone, a privacy-first SIP softphone: the scripted user agent and the embedded lab')
  .option('--data-dir <dir>', 'where the call log and every other persistent state live', defaultDataDir())
  .showHelpAfterError()
  .exitOverride();

program
  .command('lab')
  .description('run the embedded lab (SIP registrar/proxy over UDP, TCP and WebSocket) until killed')
  .option('--udp <port>', 'UDP port (0 = any free port)', '5060')
  .option('--tcp <port>', 'TCP port (0 = any free port)', '5060')
  .option('--ws <port>', 'WebSocket port (0 = any free port)', '8080')
  .option('--tls <port>', 'also serve SIP over TLS on this port (0 = any free port), with a certificate the lab makes with openssl on first start and keeps in --data-dir; its fingerprint is printed')
  .option('--wss <port>', 'also serve SIP over secure WebSocket on this port, with the same certificate')
  .option('--address <address>', 'listen address (loopback by default)', '127.0.0.1')
  .option('--auth', 'require digest authentication (users from --user)')
  .option('--user <user:password...>', 'a known user (repeatable); without any, every user is accepted')
  .option('--json', 'print the ready line as JSON')
  .option('--admin <port>', 'serve the read-only admin view (bindings, conversion tables, counters) on 127.0.0.1 with a per-run token')
  .option('--trace <file>', 'append every SIP message the lab sends and receives to this file (JSON lines)')
  .option('--signing', 'sign and validate routing headers (seed 002): every link is untrusted; alerts are printed')
  .option('--trusted <link...>', 'with --signing: a server link to trust, ADDRESS[:PORT] or [IPv6][:PORT], optionally after udp:/tcp:/ws: (repeatable); nothing toward it is signed, nothing from it checked (seed 002 ¶[0029]-[0031])')
  .option('--tamper <kind>', 'with --signing: forge routing headers on the links toward the proxy (via, record_route, route_set, replay) to see each caught')
  .option('--tamper-link <link...>', 'with --tamper: forge only what arrives over these links, ADDRESS[:PORT] as for --trusted (repeatable); every link by default')
  .option('--keys-out <file>', 'with --signing: keep the verification keys phones need in this file (rewritten as keys rotate)')
  .option('--domain <name...>', 'a domain the lab serves (repeatable); two or more start one peered proxy per domain, on free ports')
  .option('--conversion <placement>', 'where anonymous calls are converted (seed 000): caller-server (default), callee-server, both, carrier or off')
  .option('--carrier-domain <name>', 'with --conversion carrier: the carrier\'s top-level domain (default carrier.lab)')
  .option('--max-connections <n>', 'TCP and WebSocket connections held at once (default 2048); more are refused and counted')
  .option('--max-connections-per-source <n>', 'connections held at once from one address (default 64)')
  .option('--max-users <n>', 'users the registrar holds at once (default 10000); a new one beyond gets 503')
  .option('--household <room=addresses...>', "a room of seed 001's building and its first number of addresses, e.g. 100-1101-1201=4 (repeatable); the address database is kept in the data dir")
  .action(async (options) => {
    leaveLean(); // a server: it runs for long
    await (await lab()).labCommand({ ...options, dataDir: program.opts().dataDir });
  });

program
  .command('lab-admin')
  .description('ask a running lab (started with --admin) for its conversion tables, bindings, or who is behind an anonymous call')
  .argument('<url>', 'the admin URL the lab printed (with its token)')
  .argument('[view]', 'conversion (default), bindings, identify, household (seed 001 rooms and addresses), snapshot')
  .argument('[key]', 'for identify: an AnonymousN or the Call-ID the callee was shown')
  .option('--json', 'print the answer as JSON')
  .action(async (url: string, view: string | undefined, key: string | undefined, options) => (await labAdmin()).labAdminCommand(url, view, key, options));

program
  .command('run')
  .description('run a scenario file (YAML or JSON); exit 0 when every step held, 1 when one failed, 2 for an invalid scenario, 3 when the environment failed')
  .argument('<scenario>', 'the scenario file')
  .option('--report <file>', 'write the JSON report here')
  .option('--junit <file>', 'write a JUnit XML report here')
  .option('--server <uri...>', 'use this SIP server instead of the scenario\'s lab or server (one URI per transport, e.g. sip:127.0.0.1:5060;transport=tcp)')
  .option('--stats <file>', 'write per-second statistics of every load step to this CSV file as it runs (calls started, answered, failed, running, queued, setup p50/p95/p99), like SIPp\'s -trace_stat')
  .option('--quiet', 'print only the verdict (and any load that could not keep its rate)')
  .action(async (scenario: string, options) => (await run()).runCommand(scenario, { ...options, dataDir: program.opts().dataDir }));

program
  .command('serve')
  .description('run the phone and serve its UI to a browser on 127.0.0.1 (the embedded lab starts unless --server is given)')
  .option('--port <port>', 'HTTP port of the UI (0 = any free port)', '0')
  .option('--server <uri>', 'SIP server (registrar and outbound proxy) instead of the embedded lab')
  .option('--user <user>', 'the account\'s user name', 'alice')
  .option('--display <name>', 'display name')
  .option('--password <password>', 'digest password')
  .option('--transport <transport>', 'udp, tcp, ws, tls or wss (tls and wss with the embedded lab: it serves them and the phone trusts its certificate)', 'udp')
  .option('--json', 'print the ready line as JSON')
  .option('--signing', 'the embedded lab signs routing headers (seed 002); the phone checks them with its keys')
  .option('--signing-keys <file>', 'a verification key file (veilphone lab --keys-out) to check signed routing headers with')
  .option('--lab-admin <url>', 'the signing lab\'s admin URL (veilphone lab --admin): its signature failure counters show in the diagnostics pane')
  .option('--provision <mode>', 'dhcp: lease the address and port range from the embedded lab\'s service gateway and take the soft switches and dial plan from its boot file (seed 003); static: no lease', 'static')
  .option('--dhcp-interface <name>', 'with --provision dhcp: lease from the DHCP server on this network interface instead (real broadcast on port 68; needs root or CAP_NET_ADMIN and CAP_NET_BIND_SERVICE; no embedded lab)')
  .option('--household <gateway>', "seed 001: a household terminal of the room whose gateway takes allocation requests at ADDRESS:PORT (veilphone lab --household; lab-admin household shows it) or on this interface; the gateway gives address, number and server")
  .option('--media-timeout <seconds>', 'end an answered call after this many seconds without RTP or RTCP from the far end (default 30; 0: off)')
  .action(async (options, command: Command) => {
    leaveLean(); // a server: it runs for long
    await (await serve()).serveCommand({ ...options, userGiven: command.getOptionValueSource('user') !== 'default', dataDir: program.opts().dataDir });
  });

program
  .command('start')
  .description('the desktop app with the embedded lab; without an Electron binary, the lab and the UI in a browser')
  .option('--user <user>', 'the account\'s user name', 'alice')
  .option('--provision <mode>', 'dhcp: lease the address and port range from the embedded lab\'s service gateway (seed 003); static: no lease', 'static')
  .option('--dhcp-interface <name>', 'with --provision dhcp: lease from the DHCP server on this network interface instead, with no embedded lab (root)')
  .option('--no-open', 'do not open the served UI in the browser (also VEILPHONE_NO_OPEN=1; never in CI)')
  .action(async (options, command: Command) => {
    leaveLean(); // a server: it runs for long
    await (await start()).startCommand({ ...options, userGiven: command.getOptionValueSource('user') !== 'default', dataDir: program.opts().dataDir });
  });

const logs = program.command('logs').description('inspect the call log: list, show a call\'s message flow, export to pcap or JSON');
logs
  .command('list')
  .description('calls, newest first')
  .option('--since <time>', 'from this time (2026-11-24T10:00:00Z, 2026-11-24, today, yesterday) or age (30m, 2h, 7d, 1h30m)')
  .option('--until <time>', 'up to this time or age')
  .option('--number <text>', 'the other party\'s number, user or URI (shown, dialled or as sent) contains this')
  .option('--call-id <id>', 'this SIP Call-ID')
  .option('--result <result>', 'answered, missed, rejected, busy, cancelled, failed, interrupted, in-progress (several: comma-separated)')
  .option('--status <code>', 'final SIP status of the INVITE (486, 503 …)')
  .option('--direction <direction>', 'incoming or outgoing')
  .option('--account <id>', 'calls of this account only')
  .option('--anonymous', 'only anonymous calls (placed or received)')
  .option('--before <call>', 'only calls older than this one (the paging hint printed after a full page)')
  .option('--limit <n>', 'at most this many', '50')
  .option('--json', 'as JSON')
  .action(async (options) => (await logsCommands()).logsList(program.opts().dataDir, options));
logs
  .command('show')
  .description('one call: its facts and a ladder of its SIP messages')
  .argument('<call>', 'call id (or a unique prefix of it) or SIP Call-ID')
  .option('--raw', 'print every message in full after the ladder')
  .option('--json', 'the call and its messages as JSON')
  .action(async (call: string, options) => (await logsCommands()).logsShow(program.opts().dataDir, call, options));
logs
  .command('export')
  .description('write calls to a pcap file (SIP as UDP frames; opens in Wireshark, tshark, sngrep) and/or JSON')
  .argument('<call...>', 'call ids, prefixes or SIP Call-IDs')
  .option('--pcap <file>', 'pcap file to write')
  .option('--json <file>', 'JSON file to write')
  .action(async (calls: string[], options) => (await logsCommands()).logsExport(program.opts().dataDir, calls, options));
logs
  .command('retention')
  .description('show or set how long the call log keeps calls (applied now, when a phone starts, and hourly)')
  .option('--keep-days <n>', 'remove calls older than this many days')
  .option('--keep-calls <n>', 'keep only this many of the newest calls')
  .option('--keep-all', 'keep every call (the default)')
  .action(async (options) => (await logsCommands()).logsRetention(program.opts().dataDir, options));

// A reader that stops early (`veilphone logs list | head`) closes the pipe: for the commands that only print, that is
// the end of the output, not a crash with a stack trace (helper 74), and they exit 0 as other Unix tools do. A phone
// or a lab (serve, run, lab) goes on — its output lost — and shuts down as it would, leaving nothing behind.
const printsOnly = process.argv.slice(2).some((arg) => arg === 'logs' || arg === 'lab-admin');
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    if (printsOnly) process.exit(exitCodes.ok);
  });
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? 0 : exitCodes.invalid);
  }
  console.error(`veilphone: ${(error as Error).message}`);
  process.exit(exitCodes.environment);
}
