import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { electronBinary } from './desktop-launch.js';
import { browserOpener, openInBrowser, openRefusal } from './open-browser.js';
import { portInUseMessage } from './port-in-use.js';
import { shellQuote } from './serve-command.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-startup-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** The error Node gives a second listener on a taken port (a real one, not a hand-made object). */
async function realPortInUse(protocol: 'udp' | 'tcp'): Promise<{ error: NodeJS.ErrnoException; port: number }> {
  if (protocol === 'udp') {
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
    const port = holder.address().port;
    const second = dgram.createSocket('udp4');
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      second.once('error', resolve);
      second.bind(port, '127.0.0.1');
    });
    second.close();
    holder.close();
    return { error, port };
  }
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as net.AddressInfo).port;
  const second = net.createServer();
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
    second.once('error', resolve);
    second.listen(port, '127.0.0.1');
  });
  holder.close();
  return { error, port };
}

describe('start-up messages (cli/)', () => {
  it('finds the Electron binary from the package\'s path.txt without loading electron (which would download)', () => {
    const pkg = path.join(scratch, 'electron');
    fs.mkdirSync(path.join(pkg, 'dist'), { recursive: true });
    // a package whose index.js would try the network: it must never be loaded
    fs.writeFileSync(path.join(pkg, 'index.js'), 'throw new Error("loaded index.js")');
    expect(electronBinary(pkg, {})).toBeUndefined(); // no path.txt: its install script never ran
    fs.writeFileSync(path.join(pkg, 'path.txt'), 'electron');
    expect(electronBinary(pkg, {})).toBeUndefined(); // path.txt but no binary
    fs.writeFileSync(path.join(pkg, 'dist/electron'), '');
    expect(electronBinary(pkg, {})).toBe(path.join(pkg, 'dist/electron'));
    expect(electronBinary(pkg, { ELECTRON_OVERRIDE_DIST_PATH: path.join(scratch, 'nowhere') })).toBeUndefined();
    expect(electronBinary(path.join(scratch, 'no-such-package'), {})).toBeUndefined();
    // and the installed package here (no binary can be downloaded on this machine) answers without printing
    const probe = execFileSync(process.execPath, ['--import', 'tsx/esm', '-e', "const m = await import('./cli/desktop-launch.ts'); m.electronBinary(); console.log('done')"], { cwd: path.resolve(import.meta.dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(probe).toBe('done\n');
  });

  it('quotes the second phone\'s server for a POSIX shell, which reads it back as one word', () => {
    const server = 'sip:127.0.0.1:40000;transport=udp';
    expect(shellQuote(server)).toBe(`'${server}'`);
    expect(shellQuote('bob')).toBe('bob');
    for (const word of [server, "it's;here", 'a b', '$(rm -rf x)']) {
      expect(execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(word)}`], { encoding: 'utf8' })).toBe(word);
    }
  });

  it('names the busy port and the option that sets it, for UDP and TCP listeners sharing a number', async () => {
    const udp = await realPortInUse('udp');
    const lab = (tcpPort: number) => [
      { option: '--udp', port: udp.port, protocol: 'udp' as const },
      { option: '--tcp', port: tcpPort, protocol: 'tcp' as const },
      { option: '--ws', port: 0, protocol: 'tcp' as const },
    ];
    expect(portInUseMessage(udp.error, lab(udp.port))).toBe(`UDP port ${udp.port} on 127.0.0.1 (--udp) is already in use: stop what holds it, or choose another with --udp PORT (0 = any free port)`);
    const tcp = await realPortInUse('tcp');
    expect(portInUseMessage(tcp.error, lab(tcp.port))).toMatch(new RegExp(`^TCP port ${tcp.port} on 127\\.0\\.0\\.1 \\(--tcp\\) is already in use`));
    expect(portInUseMessage(tcp.error, [{ option: '--port', port: tcp.port, protocol: 'tcp' }])).toMatch(/\(--port\) is already in use: .* with --port PORT/);
    expect(portInUseMessage(tcp.error, [])).toBe(`port ${tcp.port} on 127.0.0.1 is already in use`);
    expect(portInUseMessage(new Error('EACCES'), lab(1))).toBeUndefined();
  });

  it('opens the UI with the platform\'s opener, unless --no-open, VEILPHONE_NO_OPEN or CI says not to', async () => {
    expect(browserOpener('linux', 'http://127.0.0.1:1/?token=a&b')).toEqual({ command: 'xdg-open', args: ['http://127.0.0.1:1/?token=a&b'] });
    expect(browserOpener('darwin', 'http://x/')).toEqual({ command: 'open', args: ['http://x/'] });
    expect(browserOpener('win32', 'http://x/?a&b')).toEqual({ command: 'cmd', args: ['/c', 'start', '""', 'http://x/?a^&b'], verbatim: true });
    expect(openRefusal({ open: false }, {})).toBe('--no-open');
    expect(openRefusal({}, { VEILPHONE_NO_OPEN: '1' })).toBe('VEILPHONE_NO_OPEN');
    expect(openRefusal({ open: true }, { CI: 'true' })).toBe('CI');
    expect(openRefusal({ open: true }, { CI: 'false', VEILPHONE_NO_OPEN: '0' })).toBeUndefined();

    // a real opener that records its argument; a missing one and a failing one are said in words
    const opener = path.join(scratch, 'fake-open');
    const record = path.join(scratch, 'opened.txt');
    fs.writeFileSync(opener, `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`, { mode: 0o755 });
    const spawnAs = (command: string) => (_c: string, args: string[], options: Parameters<typeof spawn>[2]) => spawn(command, args, options);
    expect(await openInBrowser('http://127.0.0.1:9/?token=t', { platform: 'linux', spawn: spawnAs(opener) })).toBeUndefined();
    await expect.poll(() => (fs.existsSync(record) ? fs.readFileSync(record, 'utf8') : '')).toBe('http://127.0.0.1:9/?token=t');
    expect(await openInBrowser('http://x/', { platform: 'linux', spawn: spawnAs(path.join(scratch, 'no-such-opener')) })).toBe('xdg-open is not installed');
    const failing = path.join(scratch, 'failing-open');
    fs.writeFileSync(failing, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    let later: string | undefined;
    expect(await openInBrowser('http://x/', { platform: 'linux', spawn: spawnAs(failing), onFailed: (why) => (later = why) })).toBeUndefined();
    await expect.poll(() => later).toBe('xdg-open exited with status 3');
    // a spawn that throws at once (bad arguments) is a reason too, not an exception
    const throwing = () => {
      throw Object.assign(new Error('spawn EINVAL'), { code: 'EINVAL' });
    };
    expect(await openInBrowser('http://x/', { platform: 'linux', spawn: throwing as never })).toBe('xdg-open: spawn EINVAL');
  });
});
