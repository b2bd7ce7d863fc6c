export * from './call-log-types.js';
export * from './phone-api.js';
export * from './phone-error.js';
export * from './phone-types.js';
export * from './call-endpoints.js';
export * from './ladder.js';
export * from './signature-view.js';
export * from './signed-header-spans.js';
