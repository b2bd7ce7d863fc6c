import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './child.js';
import { freePort } from './free-port.js';
import type { NetnsTopology } from './netns-topology.js';

const config = path.resolve(import.meta.dirname, '../../deploy/kamailio/kamailio.cfg');

interface KamailioOptions {
  config?: string;
  defines?: string[];
  tls?: { certFile: string; keyFile: string };
}

/**
 * Kamailio with the project's configuration (deploy/kamailio/kamailio.cfg) on loopback, on free ports: UDP and TCP
 * on one port, WebSocket on another. Started in the foreground and stopped by its PID.
 */
export class KamailioServer {
  /** With `tls`: the SIP over TLS port and the secure WebSocket port. */
  tlsPorts?: { tls: number; wss: number };

  private constructor(
    readonly child: Child,
    readonly port: number,
    readonly wsPort: number,
    /** Its run and working directory: the `kamcmd` control socket is `kamailio_ctl` there. */
    readonly dir: string,
  ) {}

  /**
   * `tls`: also listen for SIP over TLS and secure WebSocket with this certificate (WITH_TLS in kamailio.cfg). The ports
   * are free when chosen, but another process may take one before Kamailio binds it: then it starts again on new ones.
   */
  static async start(options: KamailioOptions = {}): Promise<KamailioServer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await KamailioServer.startOnce(options);
      } catch (error) {
        if (attempt >= 3 || !/Address already in use/.test((error as Error).message)) throw error;
      }
    }
  }

  private static async startOnce(options: KamailioOptions): Promise<KamailioServer> {
    const taken = new Set<number>();
    const port = async (): Promise<number> => {
      let p = await freePort();
      while (taken.has(p)) p = await freePort();
      taken.add(p);
      return p;
    };
    const sipPort = await port();
    const wsPort = await port();
    const tlsPorts = options.tls ? { tls: await port(), wss: await port() } : undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-kamailio-'));
    const args = [
      '-f', options.config ?? config, '-DD', '-E', '-Y', dir, '-w', dir,
      '-l', `udp:127.0.0.1:${sipPort}`, '-l', `tcp:127.0.0.1:${sipPort}`, '-l', `tcp:127.0.0.1:${wsPort}`,
      ...(tlsPorts && options.tls
        ? ['-l', `tls:127.0.0.1:${tlsPorts.tls}`, '-l', `tls:127.0.0.1:${tlsPorts.wss}`, '-A', 'WITH_TLS', '-A', `TLS_CERT="${options.tls.certFile}"`, '-A', `TLS_KEY="${options.tls.keyFile}"`]
        : []),
      ...(options.defines ?? []).flatMap((d) => ['-A', d]),
    ];
    const child = Child.start('kamailio', args, { cwd: dir });
    const server = new KamailioServer(child, sipPort, wsPort, dir);
    if (tlsPorts) server.tlsPorts = tlsPorts;
    try {
      await server.waitReady();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /**
   * Kamailio inside a namespace of a test's topology, listening on `address` (UDP and TCP on 5060, WebSocket on 8080);
   * ready once it answers OPTIONS asked from inside that namespace.
   */
  static async startIn(topology: NetnsTopology, role: string, address: string, options: { tls?: { certFile: string; keyFile: string } } = {}): Promise<KamailioServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-kamailio-'));
    const host = address.includes(':') ? `[${address}]` : address;
    const args = ['-f', config, '-DD', '-E', '-Y', dir, '-w', dir, '-l', `udp:${host}:5060`, '-l', `tcp:${host}:5060`, '-l', `tcp:${host}:8080`];
    // with TLS: SIP over TLS on 5061 and secure WebSocket on 8443 (WITH_TLS in kamailio.cfg)
    if (options.tls) args.push('-l', `tls:${host}:5061`, '-l', `tls:${host}:8443`, '-A', 'WITH_TLS', '-A', `TLS_CERT="${options.tls.certFile}"`, '-A', `TLS_KEY="${options.tls.keyFile}"`);
    const child = new Child(topology.spawn(role, 'kamailio', args, { cwd: dir }), dir);
    const server = new KamailioServer(child, 5060, 8080, dir);
    if (options.tls) server.tlsPorts = { tls: 5061, wss: 8443 };
    const probe = `
      const s = require('node:dgram').createSocket('${address.includes(':') ? 'udp6' : 'udp4'}');
      let n = 0;
      s.on('message', (d) => { if (String(d).startsWith('SIP/2.0 200')) process.exit(0); });
      s.bind(0, () => setInterval(() => {
        if (++n > 50) process.exit(1);
        const p = s.address().port;
        s.send(['OPTIONS sip:${host}:5060 SIP/2.0', 'Via: SIP/2.0/UDP ${host}:' + p + ';branch=z9hG4bK-ready-' + n, 'Max-Forwards: 70',
          'From: <sip:probe@${host}>;tag=r' + n, 'To: <sip:${host}:5060>', 'Call-ID: ready-' + n + '-' + p, 'CSeq: ' + n + ' OPTIONS',
          'Content-Length: 0', '', ''].join('\\r\\n'), 5060, '${address}');
      }, 200));`;
    try {
      topology.exec(role, process.execPath, ['-e', probe]);
    } catch (error) {
      await server.stop();
      throw new Error(`kamailio did not answer OPTIONS in ${topology.ns(role)}: ${(error as Error).message}\n${child.stderr.slice(-2000)}`);
    }
    return server;
  }

  get servers(): { udp: string; tcp: string; ws: string; tls?: string; wss?: string } {
    return {
      udp: `sip:127.0.0.1:${this.port};transport=udp`,
      tcp: `sip:127.0.0.1:${this.port};transport=tcp`,
      ws: `sip:127.0.0.1:${this.wsPort};transport=ws`,
      ...(this.tlsPorts ? { tls: `sip:127.0.0.1:${this.tlsPorts.tls};transport=tls`, wss: `sip:127.0.0.1:${this.tlsPorts.wss};transport=wss` } : {}),
    };
  }

  /** Kamailio answers OPTIONS without a user with 200 once its workers run. */
  private async waitReady(ms = 10_000): Promise<void> {
    const socket = dgram.createSocket('udp4');
    const deadline = Date.now() + ms;
    try {
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const answered = new Promise<void>((resolve) => socket.on('message', (data) => data.toString().startsWith('SIP/2.0 200') && resolve()));
      let n = 0;
      for (;;) {
        if (this.child.process.exitCode !== null) throw new Error(`kamailio exited with ${this.child.process.exitCode}:\n${this.child.stderr.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`kamailio did not answer OPTIONS within ${ms} ms:\n${this.child.stderr.slice(-2000)}`);
        const local = socket.address().port;
        const options = [
          `OPTIONS sip:127.0.0.1:${this.port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-ready-${n}`,
          'Max-Forwards: 70',
          `From: <sip:probe@127.0.0.1>;tag=ready${n}`,
          `To: <sip:127.0.0.1:${this.port}>`,
          `Call-ID: ready-${n}-${local}@127.0.0.1`,
          `CSeq: ${++n} OPTIONS`,
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        socket.send(options, this.port, '127.0.0.1');
        const ok = await Promise.race([answered.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 200))]);
        if (ok) return;
      }
    } finally {
      socket.close();
    }
  }

  /**
   * Stop it by its PID, and its workers by theirs: a main process that does not end within the grace is killed, and
   * its orphaned workers ignore SIGTERM (one CI run left nine behind). A worker is killed only while its command line
   * still names this server's directory (its PID cannot have been reused by another program).
   */
  async stop(): Promise<void> {
    const workers = workerPids(this.child.process.pid);
    await this.child.stop();
    for (const pid of workers) {
      try {
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.dir)) process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The PIDs of a process's children (Kamailio's workers), read from /proc. */
function workerPids(parent: number | undefined): number[] {
  if (parent === undefined) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ')'
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) pids.push(Number(entry));
    } catch {
      // it ended while we looked
    }
  }
  return pids;
}
