import { describe, expect, it } from 'vitest';
import type { SipCall } from '../sip/sip-call.js';
import type { SipIdentity } from '../sip/sip-identity.js';
import type { TemporaryAddressManager } from '../address/temporary-address-manager.js';
import { AccountIdentities, type IdentityPlacement } from './account-identities.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** AccountIdentities with an identity the test opens by hand (a fake: its calls are what the test puts there). */
function identities() {
  let open!: (identity: SipIdentity) => void;
  const opened = new Promise<SipIdentity>((resolve) => (open = resolve));
  const account = new AccountIdentities({
    accountId: 'alice',
    aor: 'sip:alice@127.0.0.1',
    server: { address: '127.0.0.1', port: 5060 },
    transport: 'udp',
    open: () => opened,
    sourceAddress: async () => '127.0.0.1',
    failed: () => () => undefined,
  });
  const calls = new Set<SipCall>();
  const identity = { isDisposed: false, calls, local: { address: '127.0.0.1', port: 5062 } } as unknown as SipIdentity;
  return { account, open: () => open(identity), calls };
}

describe('AccountIdentities: identities the account leaves', () => {
  // A failback kept while a call placed through the server being left is still being given its identity (its
  // one-time sending address registering there): the identities must not go before that call has its INVITE and ends.
  it('callsOver waits for a call still being given one of its identities, then for that call to end', async () => {
    const { account, open, calls } = identities();
    const placing = account.forCall();
    let over = false;
    void account.callsOver().then(() => (over = true));
    await turn();
    expect(over).toBe(false); // no live call yet, but one being placed
    open();
    const lent = await placing;
    // the caller makes its INVITE in this turn (outgoing-call.ts): the call is the identity's from now on
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    calls.add({ state: 'established', whenEnded: () => ended } as unknown as SipCall);
    expect(lent.identity.local.address).toBe('127.0.0.1');
    await turn();
    await turn();
    expect(over).toBe(false); // the call talks
    calls.clear();
    end();
    await turn();
    expect(over).toBe(true);
  });
});

/** One-time addresses (fakes): each acquired address gets an identity; `opened` lists them by purpose, in order. */
function oneTimeIdentities() {
  const opened: Array<{ purpose: string; address: string }> = [];
  let next = 1;
  const manager = {
    oneAtATime: false,
    acquire: async (purpose: 'sending' | 'receiving') => ({ address: `127.0.0.${++next}`, purpose, applier: 'loopback', binds: true, release: async () => undefined }),
  } as unknown as TemporaryAddressManager;
  const account = new AccountIdentities({
    accountId: 'alice',
    aor: 'sip:alice@127.0.0.1',
    server: { address: '127.0.0.1', port: 5060 },
    transport: 'udp',
    addresses: async () => manager,
    prepareAhead: true,
    open: async (placement: IdentityPlacement) => {
      opened.push({ purpose: placement.purpose, address: placement.advertisedAddress });
      return {
        isDisposed: false,
        calls: new Set<SipCall>(),
        local: { address: placement.bindAddress, port: 5062 },
        advertisedAddress: placement.advertisedAddress,
        contactUri: `sip:alice@${placement.advertisedAddress}:5062`,
        registrationState: 'registered',
        mayHoldBinding: true,
        register: async () => undefined,
        unregister: async () => 200,
        dispose: async () => undefined,
        onBindingLifetime: () => undefined,
      } as unknown as SipIdentity;
    },
    sourceAddress: async () => '127.0.0.1',
    failed: () => () => undefined,
  });
  return { account, opened };
}

describe('AccountIdentities: one-time sending addresses prepared ahead', () => {
  it('prepares the next sending address after a call, but none for identities the account has left', async () => {
    const { account, opened } = oneTimeIdentities();
    const first = await account.forCall();
    await first.finish();
    await turn();
    // the next call's address is ready before it is dialled
    expect(opened.map((o) => o.purpose)).toEqual(['sending', 'sending']);
    const second = await account.forCall();
    expect(second.address).toBe(opened[1]!.address);
    // a failback (or failover) leaves these identities while the call is up: when it ends, no new address is made for them
    const over = account.callsOver();
    await second.finish();
    await over;
    await turn();
    expect(opened).toHaveLength(2);
  });
});
