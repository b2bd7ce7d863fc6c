import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Child } from './child.js';
import { freePort } from './free-port.js';

export interface LinphonecOptions {
  /** Take incoming calls at once (`-a`). */
  autoAnswer?: boolean;
  /** The transport of its account (`reg_proxy`'s `transport=`): UDP by default. */
  transport?: 'udp' | 'tls';
  /** Check the server's certificate (and its name) against this CA (`[sip] root_ca`, `verify_server_certs`, `verify_server_cn`). */
  caFile?: string;
  /** SRTP with SDES keys, mandatory (`[sip] media_encryption=srtp`, `media_encryption_mandatory=1`). */
  srtp?: boolean;
  /** `[sip] 100rel_support_level`: 0 none, 1 supported, 2 required (it then sends `Require: 100rel`). */
  rel100?: 'none' | 'supported' | 'required';
  /** Answer incoming calls with 183 and its audio first (`--real-early-media`: its tone file, before `answer`). */
  earlyMedia?: boolean;
  /** Wait until it has registered (the default); `false` returns at once (a test that expects it not to). */
  waitRegistered?: boolean;
  /** Its SIP port on 127.0.0.1; a free one by default (a test that must name its link before it starts gives one). */
  sipPort?: number;
  /** Write its SIP stack's log (`-d 6 -l linphonec.log` in its directory; read it with `log()`). */
  log?: boolean;
  /** Ask for a session timer (RFC 4028) of this many seconds, with this Min-SE (`[sip] session_expires_*`). */
  sessionTimer?: { seconds: number; minSe: number };
}

/**
 * Linphone's console client (Debian `linphone-cli`) as a peer on loopback: its own HOME (it keeps a SQLite database
 * under ~/.local/share/linphone) and config file (`-c`), bound to 127.0.0.1, one account registered with the given
 * server over UDP, video off. It is driven by commands on its standard input (`call`, `answer`, `pause`, `resume`,
 * `terminate`; a line of digits during a call sends them as DTMF) and watched through what it prints. Stopped by
 * its PID.
 */
export class Linphonec {
  private constructor(
    readonly child: Child,
    readonly sipPort: number,
    private readonly dir: string,
  ) {}

  /** Start it as `user` registered with `server` (`host:port`, UDP unless `transport` says TLS). */
  static async start(user: string, server: string, options: LinphonecOptions = {}): Promise<Linphonec> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-linphonec-'));
    fs.mkdirSync(path.join(dir, '.local/share/linphone'), { recursive: true });
    const sipPort = options.sipPort ?? (await freePort());
    const rtpPort = await freePort();
    const [host] = server.split(':');
    const config = [
      '[sip]',
      `sip_port=${sipPort}`,
      'sip_tcp_port=-1',
      'sip_tls_port=-1',
      'bind_address=127.0.0.1',
      ...(options.caFile ? [`root_ca=${options.caFile}`, 'verify_server_certs=1', 'verify_server_cn=1'] : []),
      ...(options.srtp ? ['media_encryption=srtp', 'media_encryption_mandatory=1'] : []),
      ...(options.rel100 !== undefined ? [`100rel_support_level=${options.rel100 === 'required' ? 2 : options.rel100 === 'supported' ? 1 : 0}`] : []),
      ...(options.sessionTimer ? ['session_expires_enabled=1', `session_expires_value=${options.sessionTimer.seconds}`, `session_expires_min_value=${options.sessionTimer.minSe}`] : []),
      'default_proxy=0',
      'register_only_when_network_is_up=0',
      '[rtp]',
      `audio_rtp_port=${rtpPort}`,
      '[net]',
      'firewall_policy=0',
      '[sound]',
      'echocancellation=0',
      '[video]',
      'enabled=0',
      'capture=0',
      'display=0',
      '[proxy_0]',
      `reg_proxy=<sip:${server};transport=${options.transport ?? 'udp'}>`,
      `reg_identity=sip:${user}@${host}`,
      'reg_expires=60',
      'reg_sendregister=1',
      'publish=0',
      '',
    ];
    const rc = path.join(dir, 'linphonerc');
    fs.writeFileSync(rc, config.join('\n'));
    const args = ['-c', rc, ...(options.autoAnswer ? ['-a'] : []), ...(options.earlyMedia ? ['--real-early-media'] : []), ...(options.log ? ['-d', '6', '-l', path.join(dir, 'linphonec.log')] : [])];
    const child = new Child(spawn('linphonec', args, { cwd: dir, env: { ...process.env, HOME: dir }, stdio: ['pipe', 'pipe', 'pipe'] }), dir);
    const linphonec = new Linphonec(child, sipPort, dir);
    // No sound card here: its calls play a tone file and record to a file instead (`play` turns on use_files).
    const tone = path.join(dir, 'tone.wav');
    fs.writeFileSync(tone, toneWav(440, 30));
    linphonec.send(`play ${tone}`);
    linphonec.send(`record ${path.join(dir, 'heard.wav')}`);
    if (options.waitRegistered === false) return linphonec;
    try {
      await linphonec.registered(20_000);
    } catch (error) {
      await linphonec.stop();
      throw error;
    }
    return linphonec;
  }

  /** Whether `status register` names a registration now (`registered, identity=…`) rather than none (`registered=-1`). */
  async isRegistered(): Promise<boolean> {
    const mark = this.mark;
    this.send('status register');
    return (await this.waitFor(/registered(=-1|, identity=)/, mark, 5000))[1] !== '=-1';
  }

  /** Until `status register` names its registration (`registered, identity=…`; `registered=-1` while there is none). */
  private async registered(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const mark = this.mark;
      this.send('status register');
      const answer = await this.waitFor(/registered(=-1|, identity=)/, mark, 5000);
      if (answer[1] !== '=-1') return;
      if (Date.now() > deadline) throw new Error(`linphonec did not register within ${ms} ms\n${this.child.stdout.slice(-2000)}\n--- its log\n${this.log().slice(-6000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Type a command line. */
  send(line: string): void {
    this.child.process.stdin?.write(`${line}\n`);
  }

  /** Wait until its output, after the first `from` characters, matches. */
  async waitFor(pattern: RegExp, from = 0, ms = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(this.child.stdout.slice(from));
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`linphonec did not print ${pattern}\n--- stdout\n${this.child.stdout.slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Where its output ends now (for waitFor's `from`). */
  get mark(): number {
    return this.child.stdout.length;
  }

  /** Its log file (with `log`): every SIP message it sent and received. */
  log(): string {
    const file = path.join(this.dir, 'linphonec.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /** What it recorded of its calls (the far end's audio), as a WAV file. */
  get heardFile(): string {
    return path.join(this.dir, 'heard.wav');
  }

  async stop(): Promise<void> {
    this.send('quit');
    await this.child.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A WAV file (RIFF, 16-bit mono PCM at 8 kHz) of a `hz` tone lasting `seconds`. */
function toneWav(hz: number, seconds: number): Buffer {
  const samples = 8000 * seconds;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
