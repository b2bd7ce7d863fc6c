import type { CoveredItem, SignatureKind, TraceSignature } from '../api/signature-types.js';
import { getParam, parseNameAddr, parseVia, type SipMessage } from '../sip/message/index.js';
import { recordRouteCovered, routeSetCoveredFromRecordRoute, routeSetCoveredFromRoute, viaCovered } from './covered-items.js';
import type { KeySource } from './key-source.js';
import { macMatches } from './mac.js';
import { inspectSealedKey } from './sealed-key.js';
import { decodeSignature, headerSignatureParam, keyClassOf, routeSetSignatureParam, sealedKeyParam, type SignatureParam } from './signature-param.js';
import { SigningError } from './signing-error.js';

const mayCarry = /vp-/i;

/** Where a signature parameter was found. */
export interface SignatureLocation {
  header: TraceSignature['header'];
  placement: TraceSignature['placement'];
  /** Element index among that header's elements (0 = topmost). */
  index: number;
  value: string;
  /** A sealed session key in the same URI (route-set signatures of a pool member). */
  sealed?: string;
}

/**
 * Every signature parameter in a message: `vp-sig` on Via and Record-Route elements (header parameters) and
 * `vp-rs` in Record-Route and Route URIs. A Record-Route signature that a user agent copied into its Route set along
 * with the rest of the entry is not reported: in a Route header it covers nothing.
 */
export function findSignatures(message: SipMessage): SignatureLocation[] {
  const found: SignatureLocation[] = [];
  message.getAll('via').forEach((text, index) => {
    if (!mayCarry.test(text)) return; // cheap pre-check; parameter names are case-insensitive
    try {
      const value = getParam(parseVia(text).params, headerSignatureParam);
      if (value !== undefined) found.push({ header: 'Via', placement: 'header-param', index, value });
    } catch {
      // an unparseable Via is the codec's business (the message was validated before it got here)
    }
  });
  for (const header of ['Record-Route', 'Route'] as const) {
    message.getAll(header).forEach((text, index) => {
      if (!mayCarry.test(text)) return;
      let entry;
      try {
        entry = parseNameAddr(text);
      } catch {
        return;
      }
      const headerValue = getParam(entry.params, headerSignatureParam);
      if (header === 'Record-Route' && headerValue !== undefined) found.push({ header, placement: 'header-param', index, value: headerValue });
      const uriValue = getParam(entry.uri.params, routeSetSignatureParam);
      if (uriValue !== undefined) {
        const sealed = getParam(entry.uri.params, sealedKeyParam);
        found.push({ header, placement: 'uri-param', index, value: uriValue, ...(sealed !== undefined ? { sealed } : {}) });
      }
    });
  }
  return found;
}

export interface VerifyOptions {
  /** Without keys, signatures are decoded and their covered sets listed, but get no verdict. */
  keys?: KeySource;
  now?: number;
  /** The next hop the signer sent to (claim 9), for Via signatures covering it: `viaPeer(...)`. */
  peer?: string;
}

const placementOf: Record<SignatureKind, TraceSignature['placement']> = {
  via: 'header-param',
  'record-route': 'header-param',
  'route-set-callee': 'uri-param',
  'route-set-caller': 'uri-param',
};

/** Seed 002 Figs. 11 and 13 and ¶[0036], ¶[0045]: rebuild the covered set, find the key, compare the MAC. */
export function checkSignature(message: SipMessage, location: SignatureLocation, options: VerifyOptions = {}): TraceSignature {
  let decoded: SignatureParam;
  try {
    decoded = decodeSignature(location.value);
  } catch (error) {
    return { ...undecodable(location), verdict: 'invalid', note: (error as Error).message };
  }
  const report: TraceSignature = {
    kind: decoded.kind,
    header: location.header,
    placement: location.placement,
    index: location.index,
    version: decoded.version,
    keyId: decoded.keyId,
    algorithm: decoded.algorithm,
    mac: decoded.mac,
    covers: [],
  };
  if (location.sealed !== undefined) {
    try {
      const info = inspectSealedKey(location.sealed);
      report.sealedKey = { suite: info.suite, keyId: info.keyId, createdAt: info.createdAt };
    } catch (error) {
      return { ...report, verdict: 'invalid', note: (error as Error).message };
    }
  }
  const misplaced = placementOf[decoded.kind] !== location.placement || (decoded.kind === 'via') !== (location.header === 'Via');
  if (misplaced) return { ...report, verdict: 'invalid', note: `a ${decoded.kind} signature does not belong in a ${location.header} ${location.placement}` };

  let covers: CoveredItem[];
  try {
    const covered = coveredSet(message, location, decoded, options.peer);
    if (covered === 'echo') {
      return { ...report, note: 'an echo of the callee route-set signature in a response: it is checked when the callee uses its route set' };
    }
    covers = covered;
  } catch (error) {
    if (error instanceof SigningError && error.code === 'UNCOVERABLE' && options.peer === undefined && decoded.flags.includes('p')) {
      return { ...report, note: error.message };
    }
    return { ...report, verdict: 'invalid', note: (error as Error).message };
  }
  report.covers = covers;
  if (!options.keys) return report;

  const resolution = options.keys.resolve(decoded.keyId, keyClassOf(decoded.kind), location.sealed, options.now ?? Date.now());
  switch (resolution.status) {
    case 'unknown':
      return { ...report, verdict: 'unknown-key', note: `no ${keyClassOf(decoded.kind)} key ${decoded.keyId}` };
    case 'expired':
      return { ...report, verdict: 'expired', note: resolution.note };
    case 'invalid':
      return { ...report, verdict: 'invalid', note: resolution.note };
    case 'found': {
      const verdict = macMatches(resolution.secret, decoded, covers, decoded.mac) ? 'valid' : 'invalid';
      return { ...report, verdict, ...(verdict === 'invalid' ? { note: 'the MAC does not match what it covers' } : resolution.sealed ? { note: 'verified with the sealed pool key' } : {}) };
    }
  }
}

function coveredSet(message: SipMessage, location: SignatureLocation, decoded: SignatureParam, peer: string | undefined): CoveredItem[] | 'echo' {
  switch (decoded.kind) {
    case 'via':
      return viaCovered(message, location.index, decoded.flags, peer);
    case 'record-route':
      return recordRouteCovered(message, location.index, decoded.flags);
    case 'route-set-callee':
    case 'route-set-caller':
      if (location.header === 'Route') return routeSetCoveredFromRoute(message, decoded.kind, location.index, decoded.flags);
      if (decoded.kind === 'route-set-callee' && message.kind === 'response') return 'echo';
      if (decoded.kind === 'route-set-caller' && message.kind === 'request') {
        throw new SigningError('UNCOVERABLE', 'a caller route-set signature is made in a response, not a request');
      }
      return routeSetCoveredFromRecordRoute(message, decoded.kind, location.index, decoded.flags);
  }
}

/** Every signature in a message, checked (or, without keys, decoded). */
export function verifySignatures(message: SipMessage, options: VerifyOptions = {}): TraceSignature[] {
  return findSignatures(message).map((location) => checkSignature(message, location, options));
}

function undecodable(location: SignatureLocation): TraceSignature {
  const code = location.value.split('.')[1];
  const kind: SignatureKind =
    location.header === 'Via' ? 'via' : location.placement === 'header-param' ? 'record-route' : code === 'rsr' ? 'route-set-caller' : 'route-set-callee';
  return { kind, header: location.header, placement: location.placement, index: location.index, version: Number(location.value.split('.')[0]) || 0, keyId: '', algorithm: '', mac: '', covers: [] };
}
