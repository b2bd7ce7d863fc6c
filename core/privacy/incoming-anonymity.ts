/** What an incoming INVITE says about who calls. */
export interface IncomingCallerHeaders {
  /** From URI user, host and display name as parsed. */
  fromUser?: string;
  fromHost?: string;
  fromDisplay?: string;
  /** The Privacy header value, if any. */
  privacy?: string;
}

export interface IncomingAnonymity {
  anonymous: boolean;
  /** Why: for the call log and the diagnostics pane. */
  reason?: string;
}

/** The conversion server's pool of anonymous users (seed 000 Fig. 13, table 180: "Anonymous1-100"). */
const conversionPoolUser = /^anonymous\d{1,4}$/i;

/**
 * Whether the network presents the caller as anonymous (SPEC A: "per the converted UserID"): an RFC 3261/3323
 * anonymous From, a Privacy header asking to hide the identity, or the conversion server's AnonymousN user.
 */
export function detectIncomingAnonymity(headers: IncomingCallerHeaders): IncomingAnonymity {
  const user = headers.fromUser?.toLowerCase();
  const host = headers.fromHost?.toLowerCase().replace(/^\[|\]$/g, '');
  if (user !== undefined && conversionPoolUser.test(user)) return { anonymous: true, reason: `converted caller ${headers.fromUser}` };
  if (host === 'anonymous.invalid' || user === 'anonymous') return { anonymous: true, reason: 'anonymous From (RFC 3323 §4.1.1.3)' };
  const privacy = headers.privacy
    ?.toLowerCase()
    .split(/[;,]/)
    .map((v) => v.trim());
  if (privacy && (privacy.includes('id') || privacy.includes('user') || privacy.includes('header'))) return { anonymous: true, reason: `Privacy: ${headers.privacy}` };
  if (headers.fromDisplay?.trim().toLowerCase() === 'anonymous') return { anonymous: true, reason: 'display name Anonymous' };
  return { anonymous: false };
}
