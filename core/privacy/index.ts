export * from './anonymity.js';
export * from './call-privacy.js';
export * from './caller-fingerprint.js';
export * from './dial-plan.js';
export * from './identity-leaks.js';
export * from './incoming-anonymity.js';
export * from './ip-literals.js';
