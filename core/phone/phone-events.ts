import type { PhoneEvent } from '../api/phone-types.js';

/** Hands one event to every host listening. */
export type EmitPhoneEvent = (event: PhoneEvent) => void;

/** The one stream of typed events the phone's hosts listen to (ARCHITECTURE.md "How a call flows"). */
export class PhoneEvents {
  private readonly listeners = new Set<(event: PhoneEvent) => void>();

  subscribe(listener: (event: PhoneEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  readonly emit: EmitPhoneEvent = (event) => {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a faulty listener must not break the phone or the other listeners
      }
    }
  };
}
