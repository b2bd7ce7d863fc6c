import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toneShare } from '../../core/media/tone-detector.js';
import { readWav } from '../../core/media/wav-file.js';
import { NetnsBaresip } from '../support/baresip-netns.js';
import { Child } from '../support/child.js';
import { KamailioServer } from '../support/kamailio.js';
import { NetnsTopology } from '../support/netns-topology.js';
import { makeTestPki, type TestPki } from '../support/test-certificates.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot } from '../support/veilphone-cli.js';

const skip = missingRequirements(['ip', 'kamailio', 'openssl', 'baresip'], { namespaces: true });

const serverAddress = '10.81.0.1';
const phoneAddress = '10.81.1.2';
const baresipAddress = '10.81.2.2';

/**
 * Issue 18 "Real peers": baresip with its srtp module (`mediaenc=srtp-mand`, an account on `;transport=tls`) and a
 * Veilphone phone through Kamailio over TLS, in three namespaces (phone, Kamailio, baresip): a call each way, SRTP,
 * and each side hears the other's tone (the phone by its tone detector, baresip in the WAV file it plays out to).
 */
describe.skipIf(skip)('a phone and baresip (SRTP mandatory) through Kamailio over TLS', () => {
  const topology = new NetnsTopology('bsp');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-baresip-tls-'));
  let pki: TestPki;
  let kamailio: KamailioServer;
  let baresip: NetnsBaresip | undefined;

  beforeAll(async () => {
    topology.add('phone');
    topology.add('server');
    topology.add('peer');
    const toPhone = topology.link('phone', 'server');
    const toPeer = topology.link('peer', 'server');
    topology.sysctl('server', 'net.ipv4.ip_forward', '1');
    topology.exec('server', 'ip', ['addr', 'add', `${serverAddress}/32`, 'dev', 'lo']);
    topology.exec('server', 'ip', ['addr', 'add', '10.81.1.1/24', 'dev', toPhone.b]);
    topology.exec('server', 'ip', ['addr', 'add', '10.81.2.1/24', 'dev', toPeer.b]);
    topology.exec('phone', 'ip', ['addr', 'add', `${phoneAddress}/24`, 'dev', toPhone.a]);
    topology.exec('phone', 'ip', ['route', 'add', 'default', 'via', '10.81.1.1']);
    topology.exec('peer', 'ip', ['addr', 'add', `${baresipAddress}/24`, 'dev', toPeer.a]);
    topology.exec('peer', 'ip', ['route', 'add', 'default', 'via', '10.81.2.1']);
    pki = await makeTestPki();
    const certificate = await pki.issue(['sip.test', serverAddress]);
    kamailio = await KamailioServer.startIn(topology, 'server', serverAddress, { tls: certificate });
  }, 60_000);

  afterAll(async () => {
    await baresip?.stop();
    await kamailio?.stop();
    topology.destroy();
    await pki?.remove();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('baresip calls the phone, then the phone calls baresip: SRTP both ways, each hears the other\'s tone', async () => {
    const server = `sip:${serverAddress}:5061;transport=tls`;
    // baresip listens for TLS too (Kamailio reaches it at its Contact), with a certificate of the test CA
    const own = await pki.issue([baresipAddress]);
    const certificateFile = path.join(scratch, 'baresip.pem');
    fs.writeFileSync(certificateFile, own.cert + own.key);
    const scenario = path.join(scratch, 'phone.yaml');
    fs.writeFileSync(scenario, [
      'timeout: 2m',
      'agents:',
      `  alice: { user: alice, transport: tls, server: "${server}", domain: "${serverAddress}", tls: { ca_file: "${pki.caFile}" }, answer: auto, address: { mode: fixed, local: "${phoneAddress}" } }`,
      'steps:',
      '  - register: alice',
      '  - expect: { agent: alice, incoming: { from_user: carol, state: established, id: c1 }, within: 30s }',
      '  - play: { call: c1, tone: 1000 }',
      '  - expect: { call: c1, rtp: { encrypted: true, min_received: 50 }, within: 15s }',
      '  - expect: { call: c1, audio: { tone_hz: 800, min_share: 0.8 }, within: 15s }',
      '  - hangup: { call: c1 }',
      '  - expect: { call: c1, state: terminated, within: 10s }',
      '  - call: { from: alice, to: carol, id: c2 }',
      '  - expect: { call: c2, state: established, within: 10s }',
      '  - expect: { call: c2, rtp: { encrypted: true, min_received: 50 }, within: 15s }',
      '  - expect: { call: c2, audio: { tone_hz: 800, min_share: 0.8 }, within: 15s }',
      '  - hangup: { call: c2 }',
      '  - expect: { call: c2, state: terminated, within: 10s }',
      '',
    ].join('\n'));
    const report = path.join(scratch, 'report.json');
    const phone = new Child(topology.spawn('phone', process.execPath, [path.join(projectRoot, 'bin/veilphone.js'), '--data-dir', path.join(scratch, 'alice'), 'run', scenario, '--report', report], { cwd: projectRoot }));
    await phone.waitFor(/ok +1 register/, 30_000);
    // the phone is registered: baresip starts and dials it (an event, not a sleep)
    baresip = await NetnsBaresip.start(topology, 'peer', { user: 'carol', address: baresipAddress, outbound: server, caFile: pki.caFile, certificateFile, mediaenc: 'srtp-mand', toneHz: 800, commands: [`/dial sip:alice@${serverAddress}`], dir: path.join(scratch, 'baresip') });
    expect(await phone.exitCode(120_000), `${phone.stdout}\n${phone.stderr}\n--- baresip\n${baresip.child.stdout.slice(-3000)}\n--- kamailio\n${kamailio.child.stderr.slice(-3000)}`).toBe(0);
    const calls = (JSON.parse(fs.readFileSync(report, 'utf8')) as { calls: Array<{ id: string; legs: { caller: { media?: { encryption: unknown } } } }> }).calls;
    for (const call of calls) {
      const leg = call.legs.caller; // the phone's leg: baresip's side is not the runner's
      expect(leg.media?.encryption, call.id).toEqual({ kind: 'srtp', suite: 'AES_CM_128_HMAC_SHA1_80' });
    }
    await baresip.stop();
    // baresip decoded the phone's 1000 Hz tone from SRTP (in the first call; in the second the phone sends silence)
    const heard = baresip.heardFiles();
    expect(heard.length, fs.readdirSync(baresip.dir).join(' ')).toBeGreaterThanOrEqual(1);
    expect(Math.max(...heard.map((file) => toneShare(readWav(file).samples, 1000)))).toBeGreaterThan(0.5);
  }, 180_000);
});
