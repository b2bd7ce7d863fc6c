import { beforeAll, describe, expect, it } from 'vitest';
import type { PhoneApi } from '../../core/api/phone-api.js';
import type { CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import type { useCallFailures as UseCallFailures } from './call-failure-store.js';
import type { usePhone as UsePhone } from './phone-store.js';

const call = (change: Partial<CallSnapshot>): CallSnapshot => ({ id: 'c1', accountId: 'a', direction: 'incoming', state: 'incoming', remote: { shown: 'alice', uri: 'sip:alice@lab', anonymous: false }, sipCallId: 'x', startedAt: 0, localHold: false, remoteHold: false, muted: false, ...change });

/** A call the phone forwards (docs/forwarding.md) leaves the user's call list: it stops ringing, and shows no failure card. */
describe('forwarded calls in the phone store', () => {
  let stores: { usePhone: typeof UsePhone; useCallFailures: typeof UseCallFailures };
  let emit!: (event: PhoneEvent) => void;
  beforeAll(async () => {
    Object.defineProperty(globalThis, 'navigator', { value: { language: 'en' }, configurable: true });
    stores = { usePhone: (await import('./phone-store.js')).usePhone, useCallFailures: (await import('./call-failure-store.js')).useCallFailures };
    const api = {
      subscribe: (listener: (event: PhoneEvent) => void) => ((emit = listener), () => undefined),
      snapshot: () => new Promise(() => undefined),
      history: () => new Promise(() => undefined),
    } as unknown as PhoneApi;
    void stores.usePhone.getState().connect(api);
  });

  it('drops a ringing call once it is being forwarded, and notes no failure for the call placed to the target', () => {
    emit({ type: 'incoming', call: call({}) });
    expect(Object.keys(stores.usePhone.getState().calls)).toEqual(['c1']);
    emit({ type: 'call', call: call({ forwardedTo: 'sip:carol@lab' }) });
    expect(stores.usePhone.getState().calls).toEqual({});
    emit({ type: 'call', call: call({ id: 'c2', direction: 'outgoing', state: 'ringing', forwardedTo: 'sip:carol@lab' }) });
    emit({ type: 'call', call: call({ id: 'c2', direction: 'outgoing', state: 'terminated', status: 486, endedBy: 'remote', forwardedTo: 'sip:carol@lab' }) });
    expect(stores.usePhone.getState().calls).toEqual({});
    expect(stores.useCallFailures.getState().cards).toEqual([]);
  });

  it('clears an error once a later action in the same view works (a refused save, then one that went through), not one raised meanwhile', async () => {
    const { usePhone } = stores;
    const refuse = async (): Promise<void> => Promise.reject(Object.assign(new Error('bad server'), { code: 'INVALID_ARGUMENT' }));
    await usePhone.getState().run(refuse);
    expect(usePhone.getState().error).toMatchObject({ message: 'bad server' });
    await usePhone.getState().run(async () => undefined);
    expect(usePhone.getState().error).toBeUndefined();
    await usePhone.getState().run(refuse);
    // an error the phone reports while the action runs is news: it stays
    await usePhone.getState().run(async () => emit({ type: 'error', code: 'CALL_FAILED', message: 'meanwhile' }));
    expect(usePhone.getState().error).toMatchObject({ code: 'CALL_FAILED', message: 'meanwhile' });
    // and so does a warning the phone reported before an unrelated action (a binding maybe left at the server)
    emit({ type: 'error', code: 'CLEANUP_PENDING', message: 'the registration may be left at the server' });
    await usePhone.getState().run(async () => undefined);
    expect(usePhone.getState().error).toMatchObject({ code: 'CLEANUP_PENDING' });
  });
});
