import { parseSipUri } from '../sip/message/index.js';

/** The host of a SIP URI, or undefined when it does not parse. */
export function hostOfUri(uri: string): string | undefined {
  try {
    return parseSipUri(uri).host;
  } catch {
    return undefined;
  }
}
