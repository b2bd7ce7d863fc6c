import { afterEach, describe, expect, it } from 'vitest';
import type { AccountConfig, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { Lab } from '../../lab/lab.js';
import type { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { KamailioServer } from '../support/kamailio.js';
import { startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['sipp', 'kamailio']);

/**
 * SIPp calling a Veilphone phone straight at its Contact, as a peer with no server does (the account takes such calls
 * with `directCalls`). The phone registers with an in-process lab only so that it has a Contact to call.
 */
describe.skipIf(skip)('SIPp calling a phone directly', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** The phone, registered with the in-process lab or with Kamailio (deploy/kamailio), its outbound proxy either way. */
  async function phone(account: Partial<AccountConfig> = {}, server: 'lab' | 'kamailio' = 'lab'): Promise<{ phone: Phone; events: PhoneEvent[]; contact: string }> {
    let registrar: { uri: string; domain?: string };
    if (server === 'lab') {
      const lab = await Lab.start();
      cleanup.push(() => lab.stop());
      registrar = { uri: lab.servers.udp!, domain: lab.domain };
    } else {
      const kamailio = await KamailioServer.start();
      cleanup.push(() => kamailio.stop());
      registrar = { uri: kamailio.servers.udp };
    }
    const bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: registrar.uri, transport: 'udp', ...(registrar.domain ? { domain: registrar.domain } : {}), answer: { kind: 'auto' }, directCalls: true, ...account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
    cleanup.push(() => bob.shutdown());
    const events: PhoneEvent[] = [];
    bob.subscribe((e) => events.push(e));
    const contact = (await bob.register()).contact!;
    return { phone: bob, events, contact: /@([^;>]+)/.exec(contact)![1]! };
  }

  function sipp(scenario: string, remote: string, extra: string[] = []): Promise<Child> {
    const [host, port] = remote.split(/:(?=\d+$)/);
    return freePort().then((localPort) => {
      const child = startSipp({ scenario, remote, localPort, service: 'bob', extra, keys: { phone_host: host!, phone_port: port ?? '5060' } });
      cleanup.push(() => child.stop());
      return child;
    });
  }

  it('a CANCEL that crosses the 200 changes nothing: SIPp acknowledges and hangs up with the tag of the answer to its CANCEL (issue 19 item 3)', async () => {
    const { events, contact } = await phone();
    const uac = await sipp('cancel-after-200.xml', contact);
    expect(await uac.exitCode(30_000), `SIPp: ${uac.stdout.slice(-1500)}\n${uac.stderr}`).toBe(0);
    const ended = await until(() => events.flatMap((e) => (e.type === 'call' && e.call.state === 'terminated' ? [e.call] : []))[0]);
    expect(ended).toMatchObject({ status: 200, endedBy: 'remote' }); // SIPp's BYE ended it, not the phone
  });

  it.each([
    ['a name (looked up for every packet: the caller would learn when the call was answered)', 'IN IP4 tracker.invalid', '0'],
    ['a multicast group', 'IN IP4 224.2.1.1/127', '0'],
    ['the broadcast address', 'IN IP4 255.255.255.255', '0'],
    ['an IPv6 zone (one of our own interfaces)', 'IN IP6 fe80::1%lo', '0'],
    ['127.0.0.1 but only a payload type above 127', 'IN IP4 127.0.0.1', '128'],
  ])('refuses with 488 before it rings an offer whose media would go to %s', async (_what, connection, formats) => {
    const { events, contact } = await phone();
    const [host, port] = contact.split(/:(?=\d+$)/);
    const localPort = await freePort();
    const uac = startSipp({ scenario: 'uac-hostile-sdp.xml', remote: contact, localPort, mediaPort: await freePort(), service: 'bob', keys: { connection, formats, phone_host: host!, phone_port: port! } });
    cleanup.push(() => uac.stop());
    expect(await uac.exitCode(20_000), `SIPp: ${uac.stdout.slice(-1500)}\n${uac.stderr}`).toBe(0);
    expect(events.filter((e) => e.type === 'incoming')).toEqual([]);
  });

  it('its re-INVITE, ACK and BYE in a dialog its proxy did not record-route reach the caller through Kamailio (issue 19 item 6)', async () => {
    // Before, they carried no Route: Kamailio took them for requests to itself, answered the re-INVITE and the BYE
    // "404 Not here" and dropped the ACK.
    const { phone: bob, events, contact } = await phone({}, 'kamailio');
    const uac = await sipp('direct-caller-held.xml', contact);
    const call = await until(() => events.flatMap((e) => (e.type === 'call' && e.call.state === 'established' ? [e.call] : []))[0], 10_000);
    await bob.hold(call.id, true); // throws unless the re-INVITE was answered 2xx
    // SIPp sends a DTMF INFO once it has the ACK of its 200: only then the BYE, so Kamailio cannot reorder the two
    await until(() => events.some((e) => e.type === 'dtmf' && e.digit === '5') || undefined, 10_000);
    await bob.hangup(call.id);
    expect(await uac.exitCode(30_000), `SIPp: ${uac.stdout.slice(-1500)}\n${uac.stderr}`).toBe(0);
    const ended = await until(() => events.flatMap((e) => (e.type === 'call' && e.call.state === 'terminated' ? [e.call] : []))[0]);
    expect(ended).toMatchObject({ endedBy: 'local', localHold: true });
  });
});
