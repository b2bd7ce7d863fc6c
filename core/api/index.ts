export * from './audio-port.js';
export * from './audio-wire.js';
export * from './call-log-types.js';
export * from './dial-rules.js';
export * from './phone-api.js';
export * from './phone-error.js';
export * from './phone-types.js';
