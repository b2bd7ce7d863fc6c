import { Command, CommanderError } from 'commander';
import { defaultDataDir } from '../core/phone/data-dir.js';
import { labCommand } from './lab-command.js';
import { runCommand } from './run-command.js';
import { serveCommand } from './serve-command.js';
import { startCommand } from './start-command.js';
import { exitCodes } from './exit-codes.js';

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
  .option('--address <address>', 'listen address (loopback by default)', '127.0.0.1')
  .option('--auth', 'require digest authentication (users from --user)')
  .option('--user <user:password...>', 'a known user (repeatable); without any, every user is accepted')
  .option('--json', 'print the ready line as JSON')
  .action(async (options) => labCommand(options));

program
  .command('run')
  .description('run a scenario file (YAML or JSON); exit 0 when every step held, 1 when one failed, 2 for an invalid scenario, 3 when the environment failed')
  .argument('<scenario>', 'the scenario file')
  .option('--report <file>', 'write the JSON report here')
  .option('--junit <file>', 'write a JUnit XML report here')
  .option('--server <uri...>', 'use this SIP server instead of the scenario\'s lab or server (one URI per transport, e.g. sip:127.0.0.1:5060;transport=tcp)')
  .option('--quiet', 'print only the verdict')
  .action(async (scenario: string, options) => runCommand(scenario, { ...options, dataDir: program.opts().dataDir }));

program
  .command('serve')
  .description('run the phone and serve its UI to a browser on 127.0.0.1 (the embedded lab starts unless --server is given)')
  .option('--port <port>', 'HTTP port of the UI (0 = any free port)', '0')
  .option('--server <uri>', 'SIP server (registrar and outbound proxy) instead of the embedded lab')
  .option('--user <user>', 'the account\'s user name', 'alice')
  .option('--display <name>', 'display name')
  .option('--password <password>', 'digest password')
  .option('--transport <transport>', 'udp, tcp or ws', 'udp')
  .option('--json', 'print the ready line as JSON')
  .action(async (options) => serveCommand({ ...options, dataDir: program.opts().dataDir }));

program
  .command('start')
  .description('the desktop app with the embedded lab; without an Electron binary, the lab and the UI in a browser')
  .option('--user <user>', 'the account\'s user name', 'alice')
  .action(async (options) => startCommand({ ...options, dataDir: program.opts().dataDir }));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.exitCode === 0 ? 0 : exitCodes.invalid);
  }
  console.error(`veilphone: ${(error as Error).message}`);
  process.exit(exitCodes.environment);
}
