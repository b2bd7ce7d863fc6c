import { formatParams, getParam, parseParams, type SipParam } from './params.js';
import { SipParseError } from './sip-parse-error.js';
import { isValidHost, parseHostPort } from './sip-uri.js';

/** One Via element (RFC 3261 §20.42): `SIP/2.0/UDP host:port;branch=...`. */
export interface Via {
  /** Upper-case transport token: UDP, TCP, TLS, WS, WSS, SCTP. */
  transport: string;
  host: string;
  port?: number;
  params: SipParam[];
}

/**
 * A Via as almost every user agent and proxy writes it (`SIP/2.0/UDP host:port;branch=…;rport`: no spaces, quotes or
 * commas), matched whole; the parameters then split at every `;`. Anything else takes the general rule below.
 * via.test.ts holds the two ways to the same result.
 */
const plainVia = /^SIP\/2\.0\/([A-Za-z0-9-]+) ([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?((?:;[A-Za-z0-9._!~*'`+%-]+(?:=[A-Za-z0-9._!~*'`+%:[\]-]+)?)*)$/;

export function parseVia(text: string): Via {
  const plain = plainVia.exec(text);
  if (plain !== null && isValidHost(plain[2]!) && (plain[3] === undefined || Number(plain[3]) <= 65535)) {
    const params: SipParam[] = [];
    if (plain[4]!.length > 0) {
      for (const part of plain[4]!.slice(1).split(';')) {
        const eq = part.indexOf('=');
        params.push(eq < 0 ? { name: part } : { name: part.slice(0, eq), value: part.slice(eq + 1) });
      }
    }
    const via: Via = { transport: plain[1]!.toUpperCase(), host: plain[2]!, params };
    if (plain[3] !== undefined) via.port = Number(plain[3]);
    return via;
  }
  const match = /^\s*SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9-]+)\s+([^;\s]+)\s*(?:;(.*))?$/s.exec(text);
  if (!match) throw new SipParseError('BAD_VIA', `malformed Via "${text.length > 80 ? `${text.slice(0, 77)}...` : text}"`);
  const [, transport = '', sentBy = '', paramText] = match;
  let hostPort: { host: string; port?: number };
  try {
    hostPort = parseHostPort(sentBy);
  } catch (error) {
    throw new SipParseError('BAD_VIA', `bad Via sent-by: ${(error as Error).message}`);
  }
  const via: Via = { transport: transport.toUpperCase(), host: hostPort.host, params: paramText ? parseParams(paramText) : [] };
  if (hostPort.port !== undefined) via.port = hostPort.port;
  return via;
}

/** A Via as its readers see it: SipMessage.topVia hands every reader of a message the same one. */
export type ReadonlyVia = Readonly<Omit<Via, 'params'>> & { readonly params: ReadonlyArray<Readonly<SipParam>> };

export function formatVia(via: ReadonlyVia): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `SIP/2.0/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}

export function viaBranch(via: ReadonlyVia): string | undefined {
  return getParam(via.params, 'branch');
}
