import type { AccountConfig } from '../../core/api/phone-types.js';

/** The phone's talking limit when an account sets none (core/phone/media-timeout.ts: Linphone's nortp-timeout). */
const defaultSeconds = 30;

/** The account's talking limit as the editor shows it: its seconds, or the phone's default. */
export function mediaTimeoutFieldOf(account: AccountConfig | undefined): string {
  return String(account?.mediaTimeout?.seconds ?? defaultSeconds);
}

/**
 * The edited limit into the account, its held limit kept: blank (or the default left as shown) stores none, `0` is off. Anything else
 * goes as written, and the core's check (account-config-check.ts) refuses what is not 0-86400 whole seconds with words
 * the editor shows.
 */
export function withMediaTimeout(config: AccountConfig, text: string): AccountConfig {
  const { mediaTimeout: previous, ...rest } = config;
  const trimmed = text.trim();
  const held = previous?.heldSeconds !== undefined ? { heldSeconds: previous.heldSeconds } : {};
  // blank, or the default shown for an account that set none: nothing stored (a later default applies)
  if (trimmed === '' || (previous?.seconds === undefined && trimmed === String(defaultSeconds))) return Object.keys(held).length > 0 ? { ...rest, mediaTimeout: held } : rest;
  return { ...rest, mediaTimeout: { seconds: Number(trimmed), ...held } };
}
