import type { PhoneCommand } from './phone-api.js';
import type { PhoneErrorShape } from './phone-error.js';
import type { PhoneEvent } from './phone-types.js';

/**
 * PhoneApi as messages, for hosts that cross a process boundary (the `veilphone serve` WebSocket, Electron IPC).
 * Requests carry an id; every request gets exactly one result with the same id; events flow unrequested.
 */
export type PhoneWireRequest = { type: 'request'; id: number; command: PhoneCommand; args: unknown[] };

export type PhoneWireMessage =
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: PhoneErrorShape }
  | { type: 'event'; event: PhoneEvent }
  | { type: 'hello'; version: 1; host: 'serve' | 'electron'; /** The host routes call audio to this UI (binary audio frames). */ audio?: boolean };

/** A client asks for far-end audio frames (binary messages, see audio-wire.ts) or stops them. */
export type PhoneWireAudioControl = { type: 'audio'; on: boolean };

export function parseWireAudioControl(data: unknown): PhoneWireAudioControl | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value = data as Record<string, unknown>;
  return value.type === 'audio' && typeof value.on === 'boolean' ? { type: 'audio', on: value.on } : undefined;
}

/** Reject anything that is not a well-formed request (a hostile page or a confused client). */
export function parseWireRequest(data: unknown): PhoneWireRequest | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const value = data as Record<string, unknown>;
  if (value.type !== 'request' || typeof value.id !== 'number' || !Number.isSafeInteger(value.id)) return undefined;
  if (typeof value.command !== 'string' || !Array.isArray(value.args) || value.args.length > 4) return undefined;
  return { type: 'request', id: value.id, command: value.command as PhoneCommand, args: value.args };
}
