import type { PhoneEvent } from '../core/api/phone-types.js';

interface Subscribable {
  subscribe(listener: (event: PhoneEvent) => void): () => void;
}

/**
 * Resolves when the call `id()` names reaches `state`; with `established`, rejects when the call ends first. Make the
 * promise before dialling (the id is read at each event), so that no event slips past.
 */
export function callReaches(phone: Subscribable, id: () => string, state: 'established' | 'terminated'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const off = phone.subscribe((event) => {
      if (event.type !== 'call' || event.call.id !== id()) return;
      if (event.call.state === state) {
        off();
        resolve();
      } else if (event.call.state === 'terminated') {
        off();
        reject(new Error(`call ended with ${event.call.status}`));
      }
    });
  });
}
