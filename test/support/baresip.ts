import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Child } from './child.js';
import { freePort } from './free-port.js';
import { until } from './until.js';

/** One event baresip's ctrl_tcp module reported (a UA or call event). */
export interface BaresipEvent {
  type: string;
  class?: string;
  param?: string;
  peeruri?: string;
}

/**
 * baresip (Debian `baresip-core`) as a peer on loopback: its own config directory, one account registered with the
 * given server, plain RTP with G.711 from its `ausine` source (baresip sends no RTP unless that runs at 48 kHz
 * stereo), bound to 127.0.0.1 only (`net_interface`; otherwise it writes the host's other address into its SDP). It is
 * driven by `ctrl_tcp` (long commands: dial, accept, hangup, hold, resume) and by `cons` for single keys (a digit during a
 * call is an RFC 4733 DTMF event); `ctrl_tcp` reports its events. Stopped by its PID.
 */
export class Baresip {
  readonly events: BaresipEvent[] = [];
  private buffer = '';
  private token = 0;
  private readonly responses = new Map<string, { ok: boolean; data: string }>();

  private constructor(
    readonly child: Child,
    private readonly control: net.Socket,
    private readonly consPort: number,
    readonly sipPort: number,
    private readonly dir: string,
  ) {
    control.on('data', (chunk: Buffer) => this.read(chunk.toString('utf8')));
    control.on('error', () => undefined); // baresip stopping
  }

  /**
   * Start baresip with `account` (an account line: `<sip:user@host:port;transport=udp>;…`) and wait for its control
   * port. Its SIP port is a free one unless `sipPort` is given (a test that must name its link before it starts).
   */
  static async start(account: (sipPort: number) => string, options: { sipPort?: number } = {}): Promise<Baresip> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-baresip-'));
    const sipPort = options.sipPort ?? (await freePort());
    const ctrlPort = await freePort();
    const consPort = await freePort();
    const config = [
      'poll_method epoll',
      'net_interface 127.0.0.1',
      `sip_listen 127.0.0.1:${sipPort}`,
      `audio_player aufile,${path.join(dir, 'heard.wav')}`,
      'audio_source ausine,440',
      `audio_alert aufile,${path.join(dir, 'alert.wav')}`,
      'ausrc_srate 48000',
      'ausrc_channels 2',
      'rtp_ports 20000-29999',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module ausine.so',
      'module aufile.so',
      'module cons.so',
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      `cons_listen 127.0.0.1:${consPort}`,
    ];
    fs.writeFileSync(path.join(dir, 'config'), `${config.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 'accounts'), `${account(sipPort)}\n`);
    fs.writeFileSync(path.join(dir, 'contacts'), '');
    const child = Child.start('baresip', ['-f', dir], { cwd: dir, env: { ...process.env, HOME: dir } });
    let control: net.Socket | undefined;
    try {
      await child.waitFor(/baresip is ready/, 15_000);
      for (let attempt = 0; attempt < 100 && !control; attempt++) {
        control = await new Promise<net.Socket | undefined>((resolve) => {
          const socket = net.connect(ctrlPort, '127.0.0.1');
          socket.once('connect', () => resolve(socket));
          socket.once('error', () => resolve(undefined));
        });
        if (!control) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!control) throw new Error(`baresip's ctrl_tcp never listened on ${ctrlPort}\n${child.stdout.slice(-2000)}`);
    } catch (error) {
      await child.stop();
      throw error;
    }
    return new Baresip(child, control, consPort, sipPort, dir);
  }

  /** Run a long command (`dial sip:…`, `hangup`, `hold` …) and return its answer. */
  async command(command: string, params?: string): Promise<{ ok: boolean; data: string }> {
    const token = String(++this.token);
    const body = JSON.stringify({ command, ...(params !== undefined ? { params } : {}), token });
    this.control.write(`${Buffer.byteLength(body)}:${body},`);
    const answer = await until(() => this.responses.get(token), 5000);
    this.responses.delete(token);
    return answer;
  }

  /** Until its account is registered (its REGISTER_OK event may come before the control connection). */
  async registered(ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const info = await this.command('reginfo');
      // eslint-disable-next-line no-control-regex -- baresip colours its status with ANSI escapes
      if (/\bOK\b/.test(info.data.replace(/\x1b\[[0-9;]*m/g, ' ')) || this.events.some((e) => e.type === 'REGISTER_OK')) return;
      if (Date.now() > deadline) throw new Error(`baresip did not register within ${ms} ms: ${info.data}\n${this.child.stdout.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Press and release keys, as on its console: during a call a digit, `*` or `#` sends that DTMF event (RFC 4733). */
  async keys(keys: string): Promise<void> {
    const socket = dgram.createSocket('udp4');
    try {
      const press = (key: string): Promise<void> => new Promise<void>((resolve, reject) => socket.send(key, this.consPort, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
      for (const key of keys) {
        await press(key);
        // the key is held a while, then released (baresip's KEYCODE_REL, 0x04): the DTMF event ends
        await new Promise((resolve) => setTimeout(resolve, 200));
        await press('\x04');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      socket.close();
    }
  }

  /** Wait for an event of `type` (with `param`, when given) after the first `from` events. */
  event(type: string, options: { param?: string; from?: number; ms?: number } = {}): Promise<BaresipEvent> {
    return until(() => this.events.slice(options.from ?? 0).find((e) => e.type === type && (options.param === undefined || e.param === options.param)), options.ms ?? 15_000);
  }

  async stop(): Promise<void> {
    this.control.destroy();
    await this.child.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Netstrings (`len:json,`) from ctrl_tcp: responses by token, events in order. */
  private read(text: string): void {
    this.buffer += text;
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.slice(0, colon));
      if (!Number.isInteger(length) || this.buffer.length < colon + 1 + length + 1) return;
      const json = this.buffer.slice(colon + 1, colon + 1 + length);
      this.buffer = this.buffer.slice(colon + 2 + length);
      const message = JSON.parse(json) as { response?: boolean; ok?: boolean; data?: string; token?: string; event?: boolean } & BaresipEvent;
      if (message.response && message.token !== undefined) this.responses.set(message.token, { ok: message.ok === true, data: message.data ?? '' });
      else if (message.event) this.events.push(message);
    }
  }
}
