import { formatParams, getParam, parseParams, type SipParam } from './params.js';
import { SipParseError } from './sip-parse-error.js';
import { parseHostPort } from './sip-uri.js';

/** One Via element (RFC 3261 §20.42): `SIP/2.0/UDP host:port;branch=...`. */
export interface Via {
  /** Upper-case transport token: UDP, TCP, TLS, WS, WSS, SCTP. */
  transport: string;
  host: string;
  port?: number;
  params: SipParam[];
}

export function parseVia(text: string): Via {
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

export function formatVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `SIP/2.0/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}

export function viaBranch(via: Via): string | undefined {
  return getParam(via.params, 'branch');
}
