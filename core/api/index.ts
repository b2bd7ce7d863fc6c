export * from './call-log-types.js';
export * from './phone-api.js';
export * from './phone-error.js';
export * from './phone-types.js';
export * from './signature-types.js';
