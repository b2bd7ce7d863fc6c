import { formatSipUri, parseSipUri, uriDomain } from '../sip/message/index.js';
import { anonymousFrom, privacyValue, type AnonymityDefault, type AnonymityLevel, type AnonymityMode } from './anonymity.js';
import { defaultDialRules, matchDialRules, type DialRule } from './dial-plan.js';

/** The caller's real identity, for P-Preferred-Identity (RFC 3325 §9.2). */
export interface CallerIdentity {
  user: string;
  domain: string;
}

export interface CallPrivacyRequest {
  dialString: string;
  /** The user's choice for this call; `default` (or absent) leaves it to the dial string and the account. */
  anonymity?: AnonymityMode | 'default';
  level?: AnonymityLevel;
  account: AnonymityDefault;
  rules?: readonly DialRule[];
  identity: CallerIdentity;
}

/** What the phone sends, and what the call log records about it. */
export interface CallPrivacyPlan {
  /** What to turn into the Request-URI: the number, with 184 in front in prefix mode. */
  target: string;
  mode: AnonymityMode;
  level?: AnonymityLevel;
  /** Header mode: the From to send instead of the account's. */
  from?: { display: string; uri: string };
  /** Header mode: Privacy and P-Preferred-Identity. */
  extraHeaders: string[];
  /** For the call log: what decided it and what went out. */
  summary: string;
}

/**
 * Decide how one call presents its caller. A 184 or 186 in the dial string decides whether it is anonymous; else the
 * per-call choice; else the account default. An anonymous call then goes out in the chosen (or the account's) mode.
 */
export function planCallPrivacy(request: CallPrivacyRequest): CallPrivacyPlan {
  const { rest, rule } = matchDialRules(request.dialString, request.rules ?? defaultDialRules);
  const choice = request.anonymity ?? 'default';
  let anonymous: boolean;
  let why: string;
  if (rule) {
    anonymous = rule.action === 'withhold';
    why = rule.label;
  } else if (choice !== 'default') {
    anonymous = choice !== 'none';
    why = anonymous ? `anonymous chosen for this call (${choice})` : 'presentation chosen for this call';
  } else {
    anonymous = request.account.anonymous;
    why = anonymous ? 'account withholds caller ID by default' : 'account presents caller ID';
  }
  if (!anonymous) return { target: rest, mode: 'none', extraHeaders: [], summary: `none: ${why}` };
  const mode: Exclude<AnonymityMode, 'none'> = choice === 'prefix' || choice === 'header' ? choice : request.account.mode;
  const level = request.level ?? request.account.level;
  if (mode === 'prefix') {
    const target = prefixTarget(rest);
    return { target, mode, level, extraHeaders: [], summary: `prefix: ${why}; 184 left in the Request-URI for the network` };
  }
  const privacy = privacyValue(level);
  return {
    target: rest,
    mode,
    level,
    from: { ...anonymousFrom },
    extraHeaders: [`Privacy: ${privacy}`, `P-Preferred-Identity: <${identityUri(request.identity)}>`],
    summary: `header: ${why}; From anonymous, Privacy: ${privacy}`,
  };
}

/**
 * The caller's real identity as a valid SIP URI (RFC 3261 §25.1: an IPv6 domain in brackets). A conversion server
 * that cannot read it cannot tell the caller is its own, and would pass the call on unconverted (issue 17 item 1).
 */
function identityUri(identity: CallerIdentity): string {
  return formatSipUri(parseSipUri(`sip:${identity.user}@${uriDomain(identity.domain)}`));
}

/** Put 184 in front of the number or user (inside a SIP URI's user part when given a URI). */
function prefixTarget(target: string): string {
  const uri = /^(sips?:)([^@;?]+)(@.*)$/i.exec(target);
  return uri ? `${uri[1]}184${uri[2]}${uri[3]}` : `184${target}`;
}
