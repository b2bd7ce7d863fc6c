import type { AnonymityDefault, AnonymityLevel } from '../api/phone-types.js';

export type { AnonymityDefault, AnonymityLevel, AnonymityMode } from '../api/phone-types.js';

export const presentByDefault: AnonymityDefault = { anonymous: false, mode: 'prefix', level: 'id' };

/** RFC 3261 §8.1.1.3 / RFC 3323 §4.1.1.3: the From of a caller who withholds its identity. */
export const anonymousFrom = { display: 'Anonymous', uri: 'sip:anonymous@anonymous.invalid' } as const;

/** The Privacy header value for a level (RFC 3323 §4.2, RFC 3325 §9.3). */
export function privacyValue(level: AnonymityLevel): string {
  return level === 'full' ? 'header;user;id' : 'id';
}
