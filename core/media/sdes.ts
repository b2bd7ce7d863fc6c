import { randomBytes } from 'node:crypto';
import { MediaError } from './media-error.js';
import { isSrtpSuiteName, srtpSuite, srtpSuiteNames, type SrtpMasterKey, type SrtpSuiteName } from './srtp-suite.js';

/** Why an `a=crypto` line cannot be used; the phone answers 488 with the message (RFC 4568 §7.1.2). */
export type SdesErrorReason =
  | 'MALFORMED'
  | 'UNKNOWN_SUITE'
  | 'BAD_BASE64'
  | 'BAD_KEY_LENGTH'
  | 'BAD_LIFETIME'
  | 'BAD_MKI'
  | 'MULTIPLE_KEYS'
  | 'UNSUPPORTED_PARAMETER'
  | 'ANSWER_MISMATCH';

export class SdesError extends MediaError {
  constructor(
    readonly reason: SdesErrorReason,
    message: string,
  ) {
    super('BAD_CRYPTO', message);
  }
}

/** One `a=crypto` attribute for SRTP (RFC 4568 §4, §6): its tag, suite and the sender's master key. */
export interface SdesCrypto {
  tag: number;
  suite: SrtpSuiteName;
  key: SrtpMasterKey;
  /** Session parameters (RFC 4568 §6.3) we accepted, as written: only KDR=0 and WSH. */
  params: string[];
}

const maxLifetimeExponent = 48; // RFC 3711 §9.2: no SRTP master key protects more than 2^48 packets
const maxAttributeLength = 512;

function fail(reason: SdesErrorReason, message: string): SdesError {
  return new SdesError(reason, message);
}

const clip = (text: string): string => (text.length > 40 ? `${text.slice(0, 40)}…` : text);

function parseLifetime(text: string): number {
  const power = /^2\^(\d{1,2})$/.exec(text);
  const value = power ? 2 ** Number(power[1]) : /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= 2 ** maxLifetimeExponent)) throw fail('BAD_LIFETIME', `key lifetime "${clip(text)}" is not a packet count from 1 to 2^${maxLifetimeExponent}`);
  return value;
}

function parseMki(text: string): NonNullable<SrtpMasterKey['mki']> {
  const match = /^(\d{1,16}):(\d{1,3})$/.exec(text);
  const value = Number(match?.[1]);
  const length = Number(match?.[2]);
  // RFC 4568 §6.1: mki-value ":" mki-length, the length in bytes from 1 to 128; the value must fit in it.
  if (!match || length < 1 || length > 128 || !Number.isSafeInteger(value) || (length < 7 && value >= 256 ** length)) {
    throw fail('BAD_MKI', `MKI "${clip(text)}" is not value:length with a length of 1 to 128 bytes that holds the value`);
  }
  return { value, length };
}

function checkParams(params: string[]): void {
  for (const param of params) {
    const [name, value] = param.split('=', 2) as [string, string | undefined];
    // RFC 4568 §6.3.1: we derive keys once (key derivation rate 0); §6.3.7: the window size hint is advice.
    if (name === 'KDR' && value === '0') continue;
    if (name === 'WSH' && value !== undefined && /^\d{1,5}$/.test(value) && Number(value) >= 64) continue;
    throw fail('UNSUPPORTED_PARAMETER', `session parameter "${clip(param)}" is not supported`);
  }
}

/** Parse the value of an `a=crypto:` attribute (RFC 4568 §9.1 grammar, SRTP key-info of §6.1). */
export function parseCrypto(value: string): SdesCrypto {
  if (value.length > maxAttributeLength) throw fail('MALFORMED', `a=crypto of ${value.length} characters is too long`);
  const match = /^(\d{1,9})[ \t]+(\S+)[ \t]+(\S+)((?:[ \t]+\S+)*)[ \t]*$/.exec(value);
  if (!match) throw fail('MALFORMED', `a=crypto "${clip(value)}" is not "tag suite key-params"`);
  const tag = Number(match[1]);
  const suiteName = match[2]!;
  if (!isSrtpSuiteName(suiteName)) throw fail('UNKNOWN_SUITE', `crypto suite "${clip(suiteName)}" is not supported (we have ${srtpSuiteNames.join(', ')})`);
  const suite = srtpSuite(suiteName);
  const keyParams = match[3]!.split(';');
  if (keyParams.length > 1) throw fail('MULTIPLE_KEYS', 'more than one master key in one a=crypto is not supported');
  const keyParam = /^inline:(.+)$/i.exec(keyParams[0]!);
  if (!keyParam) throw fail('MALFORMED', `key "${clip(keyParams[0]!)}" is not inline:<key||salt>`);
  const [keySalt, ...extras] = keyParam[1]!.split('|');
  if (extras.length > 2) throw fail('MALFORMED', 'an inline key has at most a lifetime and an MKI after it');
  // RFC 4568 §6.1: base64 of RFC 4648 §4, padded; Buffer would silently skip anything else.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keySalt!) || keySalt!.length % 4 !== 0) throw fail('BAD_BASE64', `key "${clip(keySalt!)}" is not base64`);
  const bytes = Buffer.from(keySalt!, 'base64');
  const expected = suite.keyLength + suite.saltLength;
  if (bytes.length !== expected) throw fail('BAD_KEY_LENGTH', `${suiteName} needs ${expected} bytes of key and salt, not ${bytes.length}`);
  const key: SrtpMasterKey = { key: bytes.subarray(0, suite.keyLength), salt: bytes.subarray(suite.keyLength) };
  const mkiText = extras.find((e) => e.includes(':'));
  const lifetimes = extras.filter((e) => !e.includes(':'));
  if (lifetimes.length > 1 || (mkiText !== undefined && extras.indexOf(mkiText) !== extras.length - 1)) throw fail('MALFORMED', 'an inline key is key||salt[|lifetime][|MKI:length]');
  if (lifetimes[0] !== undefined) key.lifetime = parseLifetime(lifetimes[0]);
  if (mkiText !== undefined) key.mki = parseMki(mkiText);
  const params = match[4]!.trim().split(/[ \t]+/).filter((p) => p.length > 0);
  checkParams(params);
  return { tag, suite: suiteName, key, params };
}

/** The value of an `a=crypto:` attribute for our key (RFC 4568 §9.1). */
export function formatCrypto(crypto: SdesCrypto): string {
  const { key } = crypto;
  let inline = Buffer.concat([key.key, key.salt]).toString('base64');
  if (key.lifetime !== undefined) {
    const exponent = Math.log2(key.lifetime);
    inline += `|${Number.isInteger(exponent) ? `2^${exponent}` : key.lifetime}`;
  }
  if (key.mki) inline += `|${key.mki.value}:${key.mki.length}`;
  return [String(crypto.tag), crypto.suite, `inline:${inline}`, ...crypto.params].join(' ');
}

/** A fresh master key and salt from the CSPRNG, for one call and one direction (RFC 4568 §6.1, RFC 3711 §8.2). */
export function createCrypto(tag: number, suite: SrtpSuiteName): SdesCrypto {
  const s = srtpSuite(suite);
  const bytes = randomBytes(s.keyLength + s.saltLength);
  return { tag, suite, key: { key: bytes.subarray(0, s.keyLength), salt: bytes.subarray(s.keyLength) }, params: [] };
}

/** Our offer's crypto attributes: every suite we have, _80 first, tags 1, 2, … each with its own fresh key. */
export function createCryptoOffer(suites: readonly SrtpSuiteName[] = srtpSuiteNames): SdesCrypto[] {
  return suites.map((suite, i) => createCrypto(i + 1, suite));
}

/** What an SDES offer/answer agreed for one stream: the suite, and the key each side sends with. */
export interface SdesAgreement {
  tag: number;
  suite: SrtpSuiteName;
  /** Our key: it protects what we send. */
  local: SrtpMasterKey;
  /** The peer's key: it checks what we receive. */
  remote: SrtpMasterKey;
}

/**
 * Answer the crypto attributes of an offered stream (RFC 4568 §7.1.2): the first one we support is accepted, and
 * we answer with the same tag and suite and a fresh key of our own. When none is usable, the SdesError says why
 * (the first line's reason, every line's message).
 */
export function answerCrypto(offered: readonly string[]): { answer: SdesCrypto; agreement: SdesAgreement } {
  const problems: SdesError[] = [];
  for (const line of offered) {
    try {
      const remote = parseCrypto(line);
      const answer = createCrypto(remote.tag, remote.suite);
      return { answer, agreement: { tag: remote.tag, suite: remote.suite, local: answer.key, remote: remote.key } };
    } catch (error) {
      if (!(error instanceof SdesError)) throw error;
      problems.push(error);
    }
  }
  if (problems.length === 0) throw new MediaError('NO_COMMON_CRYPTO', 'no a=crypto offered');
  if (problems.length === 1) throw problems[0]!;
  throw fail(problems[0]!.reason, `no usable a=crypto: ${problems.map((p, i) => `tag ${clip(offered[i]!.split(/[ \t]/, 1)[0]!)}: ${p.message}`).join('; ')}`);
}

/** Take the answer's crypto attribute for our offer (RFC 4568 §7.1.3): one of our tags, with its suite. */
export function acceptCryptoAnswer(offer: readonly SdesCrypto[], answered: readonly string[]): SdesAgreement {
  if (answered.length === 0) throw new MediaError('NO_COMMON_CRYPTO', 'the answer has no a=crypto: the peer declined SRTP');
  if (answered.length > 1) throw fail('ANSWER_MISMATCH', `the answer has ${answered.length} a=crypto lines for one stream, not one`);
  const remote = parseCrypto(answered[0]!);
  const ours = offer.find((c) => c.tag === remote.tag);
  if (!ours) throw fail('ANSWER_MISMATCH', `the answer accepted crypto tag ${remote.tag}, which we did not offer`);
  if (ours.suite !== remote.suite) throw fail('ANSWER_MISMATCH', `the answer changed tag ${remote.tag} from ${ours.suite} to ${remote.suite}`);
  return { tag: remote.tag, suite: remote.suite, local: ours.key, remote: remote.key };
}

/** An SDP body with every SDES key replaced, for logs and exports: the key never leaves the call. */
export function redactCryptoKeys(sdp: string): string {
  return sdp.replace(/^a=crypto:[^\r\n]*/gim, (line) => line.replace(/(inline:)[^|\s;]*/gi, '$1[redacted]'));
}
