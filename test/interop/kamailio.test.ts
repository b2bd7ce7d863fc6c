import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KamailioServer } from '../support/kamailio.js';
import { missingRequirements } from '../support/tools.js';
import { projectRoot, serverArgs, veilphone } from '../support/veilphone-cli.js';

/**
 * The scenarios that mean the same on any registrar (absent-user and digest-auth test the embedded lab's own rules),
 * and issue 22's everyday calls: Kamailio carries the re-INVITEs of call waiting, the REFER and its NOTIFYs in the
 * dialog's route set, the transferee's INVITE with Replaces, the 302 of call forwarding back to the caller, and
 * forwarding by placing the call (the forwarding phone's REFER with Replaces to the caller, RFC 3891).
 */
const scenarios = [
  'call-udp-tcp',
  'call-udp-ws',
  'call-tcp-ws',
  'cancel-before-answer',
  'reject-busy',
  'unknown-user',
  'hold-resume',
  'temporary-addresses-signaling-only',
  'call-waiting',
  'transfer-blind',
  'transfer-attended',
  'dnd-forward',
  'forward-by-call',
];

const skip = missingRequirements(['kamailio']);

describe.skipIf(skip)('the foundation scenarios against Kamailio (deploy/kamailio/kamailio.cfg) over UDP, TCP and WebSocket', () => {
  let kamailio: KamailioServer;
  beforeAll(async () => {
    kamailio = await KamailioServer.start();
  });
  afterAll(async () => {
    await kamailio?.stop();
  });

  it.each(scenarios)('%s passes', async (name) => {
    const file = path.join(projectRoot, 'test/scenarios', `${name}.yaml`);
    const run = veilphone(['run', file, ...serverArgs(kamailio.servers)]);
    const code = await run.exitCode(90_000);
    expect(code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^PASS /m);
  });
});
