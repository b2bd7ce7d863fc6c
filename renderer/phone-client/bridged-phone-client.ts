import { phoneCommands, type PhoneApi } from '../../core/api/phone-api.js';
import { fromPhoneErrorShape, PhoneError, type PhoneErrorShape } from '../../core/api/phone-error.js';

function isErrorShape(value: unknown): value is PhoneErrorShape {
  return typeof value === 'object' && value !== null && typeof (value as PhoneErrorShape).code === 'string' && typeof (value as PhoneErrorShape).message === 'string';
}

/**
 * The Electron preload's `window.veilphone` as a PhoneApi whose failures are PhoneErrors again: errors cross the
 * context bridge as plain { code, message } objects.
 */
export function bridgedPhoneApi(bridge: PhoneApi): PhoneApi {
  const api = { subscribe: bridge.subscribe.bind(bridge) } as Record<string, unknown>;
  if (bridge.audio) api.audio = bridge.audio;
  for (const command of phoneCommands) {
    const call = bridge[command] as (...args: unknown[]) => Promise<unknown>;
    api[command] = async (...args: unknown[]) => {
      try {
        return await call(...args);
      } catch (error) {
        throw isErrorShape(error) ? fromPhoneErrorShape(error) : new PhoneError('INTERNAL', String((error as Error)?.message ?? error));
      }
    };
  }
  return api as unknown as PhoneApi;
}
