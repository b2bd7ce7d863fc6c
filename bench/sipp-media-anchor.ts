import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { frameSamples, sampleRate, ToneSource } from '../core/media/audio-frame.js';
import { encodeG711 } from '../core/media/g711.js';
import { Child } from '../test/support/child.js';
import { freePort } from '../test/support/free-port.js';
import { readPcap } from '../test/support/pcap-reader.js';

const scenarios = path.resolve(import.meta.dirname, 'sipp');
/** The file SIPp's rtp_stream plays, named in both scenarios and looked for in SIPp's working directory. */
const toneFile = 'veilphone-tone.ulaw';
/** Linux accounts process CPU in clock ticks of 10 ms (USER_HZ 100). */
const tickMs = 10;

export interface SippMediaStep {
  /** Streams (call legs) running: each SIPp call streams from both its UAC and its UAS. */
  legs: number;
  cpuMsPerLegSecond: number;
  /** RTP packets the legs should have sent in the measured window (50 a second each), and those tcpdump saw. */
  packetsExpected: number;
  packetsSeen: number;
}

/** A process's user + system CPU so far, in ms (/proc/PID/stat fields 14 and 15). */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * tickMs;
}

/**
 * The media benchmark's anchor: SIPp doing the same work as the media step, `legs` G.711 streams at 20 ms on loopback
 * (`legs / 2` calls from a SIPp UAC to a SIPp UAS, each side playing PCMU with rtp_stream). Both SIPp processes' CPU is
 * read over a window of `seconds` once every call is up; tcpdump counts the RTP that crossed in that window.
 */
export async function runSippMediaStep(legs: number, seconds: number): Promise<SippMediaStep> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-bench-sipp-media-'));
  const children: Child[] = [];
  try {
    const tone = new Int16Array(sampleRate);
    const source = new ToneSource(1000);
    for (let at = 0; at < tone.length; at += frameSamples) source.read(tone.subarray(at, at + frameSamples));
    fs.writeFileSync(path.join(dir, toneFile), encodeG711('PCMU', tone));
    const calls = Math.max(1, Math.floor(legs / 2));
    const [uasPort, uacPort, uasMedia, uacMedia] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const rampMs = Math.ceil((calls / 200) * 1000) + 1000; // started at 200 calls/s, then a second to settle
    const holdMs = rampMs + seconds * 1000 + 2000;
    const capture = path.join(dir, 'rtp.pcap');
    const tcpdump = Child.start('tcpdump', ['-i', 'lo', '-n', '-U', '-s', '0', '-w', capture, `udp and (port ${uasMedia} or port ${uacMedia})`]);
    children.push(tcpdump);
    await tcpdump.waitFor(/listening on/);
    const common = ['-i', '127.0.0.1', '-nostdin', '-timeout', `${Math.ceil(holdMs / 1000) + 30}s`];
    const uas = Child.start('sipp', ['-sf', path.join(scenarios, 'uas-rtpstream.xml'), '-p', String(uasPort), '-mp', String(uasMedia), ...common], { cwd: dir });
    children.push(uas);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const uac = Child.start('sipp', [`127.0.0.1:${uasPort}`, '-sf', path.join(scenarios, 'uac-rtpstream.xml'), '-p', String(uacPort), '-mp', String(uacMedia), '-m', String(calls), '-l', String(calls), '-r', '200', '-d', String(holdMs), '-timeout_error', ...common], { cwd: dir });
    children.push(uac);
    await new Promise((resolve) => setTimeout(resolve, rampMs));
    const pids = [uas.process.pid!, uac.process.pid!];
    const cpuBefore = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const cpuAfter = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const to = Date.now();
    const uacCode = await uac.exitCode(holdMs + 30_000);
    if (uacCode !== 0) throw new Error(`SIPp's UAC exited ${uacCode}: ${uac.stdout.slice(-600)} ${uac.stderr.slice(-600)}`);
    await uas.stop();
    await tcpdump.stop();
    const packetsSeen = readPcap(fs.readFileSync(capture)).filter((p) => p.protocol === 'udp' && p.at >= from && p.at < to).length;
    const windowS = (to - from) / 1000;
    return { legs: calls * 2, cpuMsPerLegSecond: (cpuAfter - cpuBefore) / windowS / (calls * 2), packetsExpected: Math.round(calls * 2 * 50 * windowS), packetsSeen };
  } finally {
    for (const child of children.reverse()) await child.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
