// Runs inside the benchmark's phone namespace (see ../address-bench.ts): dial → INVITE on the wire for a fixed-address
// phone and for a one-time-address phone, alternating call by call so both see the same machine state. Prints JSON.
import { performance } from 'node:perf_hooks';
import type { AccountConfig } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { callReaches } from '../call-states.js';

const [server, domain, prefix, ifname, fixedAddress, callsText] = process.argv.slice(2) as [string, string, string, string, string, string];
const calls = Number(callsText);

function phone(account: Partial<AccountConfig> & { id: string; user: string }, onInviteOut?: () => void): Phone {
  return new Phone({
    accounts: [{ server, transport: 'udp', domain, ...account }],
    createSessionDescriptionHandlerFactory: defaultMediaProvider,
    onTrace: (_account, entry) => {
      if (entry.dir === 'out' && entry.raw.startsWith('INVITE ')) onInviteOut?.();
    },
  });
}

let inviteOut: (() => void) | undefined;
const bob = phone({ id: 'bob', user: 'bob', answer: { kind: 'auto' }, localAddress: fixedAddress });
const fixed = phone({ id: 'carol', user: 'carol', localAddress: fixedAddress }, () => inviteOut?.());
const temporary = phone({ id: 'alice', user: 'alice', address: { mode: 'temporary', source: 'configured', prefix, interface: ifname, applier: 'kernel' } }, () => inviteOut?.());
const prepared = phone({ id: 'dave', user: 'dave', address: { mode: 'temporary', source: 'configured', prefix, interface: ifname, applier: 'kernel', prepare: 'ahead' } }, () => inviteOut?.());

async function dialToInvite(caller: Phone): Promise<number> {
  const onWire = new Promise<number>((resolve) => (inviteOut = () => resolve(performance.now())));
  let id = '';
  const established = callReaches(caller, () => id, 'established');
  const t0 = performance.now();
  id = (await caller.call({ target: 'bob' })).id;
  const sent = await onWire;
  inviteOut = undefined;
  await established;
  const ended = callReaches(caller, () => id, 'terminated');
  await caller.hangup(id);
  await ended;
  await new Promise((resolve) => setTimeout(resolve, 20)); // the one-time address is erased after the call
  return sent - t0;
}

await bob.register();
await fixed.register();
await temporary.register();
await prepared.register();
const result = { fixed: [] as number[], temporary: [] as number[], prepared: [] as number[], applier: '' };
for (let i = 0; i < calls; i++) {
  result.fixed.push(await dialToInvite(fixed));
  result.temporary.push(await dialToInvite(temporary));
  await new Promise((resolve) => setTimeout(resolve, 300)); // a user does not dial again within 300 ms
  result.prepared.push(await dialToInvite(prepared));
}
result.applier = (await temporary.snapshot()).addresses[0]?.applier ?? 'unknown';
await Promise.all([bob.shutdown(), fixed.shutdown(), temporary.shutdown(), prepared.shutdown()]);
console.log(JSON.stringify(result));
process.exit(0);
