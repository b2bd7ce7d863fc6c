import type { BindingToRemove } from './binding-removal.js';
import type { EmitPhoneEvent } from './phone-events.js';

/** A one-time binding whose unregistration failed, as its identity knew it when it went. */
export interface FailedUnregistration extends BindingToRemove {
  /** Its journal entry, which the next start works from (none when the phone keeps no journal). */
  journalId?: number;
  /** The latest the registrar may hold it; past this it has expired there by itself. */
  until?: number;
  /** The registrar's answer to the REGISTER Expires: 0 (≥ 300), or undefined when none came. */
  status: number | undefined;
}

/**
 * SPEC B, "nothing is left behind": a one-time binding the registrar would not remove (500, 401 without credentials,
 * no answer) is reported at once, with how long it may stay there, and its journal entry stays: the next start erases
 * it (leftover-cleanup.ts), or strikes it once it has certainly expired.
 *
 * It is not tried again while the phone runs. Its identity and one-time address are gone by then, and a REGISTER naming
 * this Contact from any other address of the phone's (the host's own, another one-time address) would tie the two
 * together for whoever sees it; holding the identity and its address for the tries instead let calls ring on an
 * identity being given up, and broke the one-sending-address-at-a-time order of Fig. 28 (a review found both).
 */
export function reportUnremovedBinding(emit: EmitPhoneEvent, binding: FailedUnregistration): void {
  const why = binding.status !== undefined ? `answered ${binding.status}` : 'no answer';
  const until = binding.until !== undefined ? ` until it expires there (${new Date(binding.until).toISOString()})` : '';
  const next = binding.journalId !== undefined ? '; the next start removes it' : '';
  emit({ type: 'error', code: 'CLEANUP_PENDING', message: `the registration of ${binding.contact} (${binding.aor}) may be left at the server${until}: its removal failed (${why})${next}` });
}
