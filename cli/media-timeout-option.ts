import type { AccountConfig } from '../core/api/phone-types.js';
import { mediaTimeoutMaxSeconds } from '../core/phone/media-timeout.js';

/**
 * `--media-timeout N` (Linphone's nortp-timeout): 0 turns the limit off whether the call talks or is held; another
 * value limits talking, and holds keep the phone's default (media-timeout.ts). Undefined when the text is neither 0
 * nor 1 to mediaTimeoutMaxSeconds.
 */
export function mediaTimeoutOption(text: string): NonNullable<AccountConfig['mediaTimeout']> | undefined {
  if (!/^\d{1,5}$/.test(text) || Number(text) > mediaTimeoutMaxSeconds) return undefined;
  const seconds = Number(text);
  return seconds === 0 ? { seconds: 0, heldSeconds: 0 } : { seconds };
}
