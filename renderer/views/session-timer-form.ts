import type { AccountConfig } from '../../core/api/phone-types.js';

/** The session interval the account asks for (AccountConfig.sessionExpires, RFC 4028) as the editor shows it: 0 is none. */
export function sessionExpiresFieldOf(account: AccountConfig | undefined): string {
  return String(account?.sessionExpires ?? 0);
}

/**
 * The edited interval into the account: blank or `0` stores none (the phone asks for no session timer, its default).
 * Anything else goes as written, and the core's check (account-config-check.ts) refuses what is not 0-86400 whole
 * seconds with words the editor shows.
 */
export function withSessionExpires(config: AccountConfig, text: string): AccountConfig {
  const { sessionExpires: _previous, ...rest } = config;
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === '0') return rest;
  return { ...rest, sessionExpires: Number(trimmed) };
}
