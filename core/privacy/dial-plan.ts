// The dial rules are pure data and matching, shared with the UI's dialer hints: they live in core/api.
export type { DialRule } from '../api/phone-types.js';
export { defaultDialRules, matchDialRules, type DialMatch } from '../api/dial-rules.js';
