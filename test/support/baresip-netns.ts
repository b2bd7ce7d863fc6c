import fs from 'node:fs';
import path from 'node:path';
import { Child } from './child.js';
import type { NetnsTopology } from './netns-topology.js';

export interface NetnsBaresipOptions {
  user: string;
  /** The address baresip's SIP socket binds (its namespace's own): its Contact and SDP name it. */
  address: string;
  /** The outbound proxy, e.g. `sip:10.0.0.1:5061;transport=tls`. */
  outbound: string;
  /** The CA baresip checks the proxy's certificate with (`sip_cafile`). */
  caFile: string;
  /** Its own certificate and key in one PEM file (`sip_certificate`): the proxy opens TLS connections to it too. */
  certificateFile: string;
  /** `srtp-mand`: SRTP with SDES keys required (RFC 4568), RTP/SAVP offered. */
  mediaenc: 'srtp-mand' | 'srtp';
  /** The sine its ausine source sends (Hz). */
  toneHz: number;
  /** Commands run at start (`/dial sip:…`), after the account is set up. */
  commands?: string[];
  /** Its config directory (a test's scratch dir): `heard.wav` is written there. */
  dir: string;
}

/**
 * baresip (Debian baresip-core 1.0) as an interop peer inside a test's network namespace (baresip takes its media
 * address from its interface and skips loopback, so it runs where its interface has an address the test made):
 * ausine as the microphone (48 kHz stereo, or it sends no RTP, ENVIRONMENT.md), what it decodes written to WAV files (sndfile),
 * auto-answer, one account through the outbound proxy. Stopped by its PID.
 */
export class NetnsBaresip {
  private constructor(
    readonly child: Child,
    readonly dir: string,
  ) {}

  /** The WAV files of what baresip decoded in its calls (the far end's audio), oldest first. */
  heardFiles(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => /dec\.wav$/.test(f))
      .sort()
      .map((f) => path.join(this.dir, f));
  }

  static async start(topology: NetnsTopology, role: string, options: NetnsBaresipOptions): Promise<NetnsBaresip> {
    const dir = options.dir;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen ${options.address}:5060`,
        `sip_cafile ${options.caFile}`,
        `sip_certificate ${options.certificateFile}`,
        `audio_source ausine,${options.toneHz}`,
        'audio_alert aufile,/dev/null',
        'ausrc_srate 48000',
        'ausrc_channels 2',
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        'module ausine.so',
        'module aufile.so',
        'module srtp.so',
        // sndfile writes what each call decoded (the far end's audio) as WAV files in snd_path
        'module sndfile.so',
        `snd_path ${dir}`,
        'module_app account.so',
        'module_app menu.so',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'accounts'), `<sip:${options.user}@${options.outbound.replace(/^sip:|;.*$/g, '').replace(/:\d+$/, '')};transport=tls>;outbound="${options.outbound}";mediaenc=${options.mediaenc};regint=600;answermode=auto;audio_codecs=PCMU\n`);
    const args = ['-f', dir, ...(options.commands ?? []).flatMap((c) => ['-e', c])];
    const child = new Child(topology.spawn(role, 'baresip', args, { cwd: dir, env: { ...process.env, HOME: dir } }), dir);
    try {
      await child.waitFor(/\{0\/TLS\/v4\} 200 OK/, 20_000);
    } catch (error) {
      await child.stop();
      throw new Error(`baresip did not register over TLS: ${(error as Error).message}\n${child.stdout.slice(-2000)}\n${child.stderr.slice(-2000)}`);
    }
    return new NetnsBaresip(child, dir);
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
