import { afterEach, describe, expect, it } from 'vitest';
import type { AccountConfig, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { Lab } from '../../lab/lab.js';
import type { Child } from '../support/child.js';
import { freePort } from '../support/free-port.js';
import { startSipp } from '../support/sipp.js';
import { missingRequirements } from '../support/tools.js';
import { until } from '../support/until.js';

const skip = missingRequirements(['sipp']);

/**
 * SIPp calling a Veilphone phone straight at its Contact, as a peer with no server does (the account takes such calls
 * with `directCalls`). The phone registers with an in-process lab only so that it has a Contact to call.
 */
describe.skipIf(skip)('SIPp calling a phone directly', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function phone(account: Partial<AccountConfig> = {}): Promise<{ phone: Phone; events: PhoneEvent[]; contact: string }> {
    const lab = await Lab.start();
    cleanup.push(() => lab.stop());
    const bob = new Phone({
      accounts: [{ id: 'bob', user: 'bob', server: lab.servers.udp!, transport: 'udp', domain: lab.domain, answer: { kind: 'auto' }, directCalls: true, ...account }],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
    cleanup.push(() => bob.shutdown());
    const events: PhoneEvent[] = [];
    bob.subscribe((e) => events.push(e));
    const contact = (await bob.register()).contact!;
    return { phone: bob, events, contact: /@([^;>]+)/.exec(contact)![1]! };
  }

  function sipp(scenario: string, remote: string, extra: string[] = []): Promise<Child> {
    return freePort().then((localPort) => {
      const child = startSipp({ scenario, remote, localPort, service: 'bob', extra });
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
});
