import { describe, expect, it } from 'vitest';
import type { TraceSignature } from '../api/signature-types.js';
import { parseNameAddr, parseSipMessage, type SipMessage, type SipRequest, type SipResponse } from '../sip/message/index.js';
import {
  addProxyHeaders,
  answer,
  calleeRequest,
  callerRequest,
  fig1Invite,
  popRoute,
  reserialize,
  rng,
  stampTopVia,
} from '../../test/support/signing-fixtures.js';
import { viaPeer } from './canonical.js';
import { combineKeySources } from './key-source.js';
import { KeyRing, parseVerificationKeyFile, VerificationKeys, type SessionKey } from './key-ring.js';
import { exportPoolKeys, generatePoolKeys, importPoolKeys, inspectSealedKey, SealedKeyOpener, sealSessionKey, type PoolSuite } from './sealed-key.js';
import { decodeSignature, encodeSignature } from './signature-param.js';
import { defaultViaFlags, removeRouteSetSignature, signRecordRoute, signRouteSet, signVia } from './signer.js';
import { SigningError } from './signing-error.js';
import { findSignatures, verifySignatures } from './verifier.js';

const bobPeer = viaPeer('udp', '198.51.100.7', 5070);
const start = Date.parse('2026-11-24T10:00:00Z');

/** SIP node 300 of Fig. 1 signs the INVITE it forwards to Bob over an untrusted link (Figs. 10 and 12). */
function signedInvite(ring: KeyRing, sealed?: (key: SessionKey) => string): SipRequest {
  const invite = addProxyHeaders(fig1Invite());
  signRecordRoute(invite, ring.signingKey('record-route'), 0);
  const rsKey = ring.signingKey('route-set');
  signRouteSet(invite, 'route-set-callee', rsKey, 0, sealed ? { sealed: sealed(rsKey) } : {});
  signVia(invite, ring.signingKey('via'), [...defaultViaFlags, 'r'], bobPeer);
  return invite;
}

/** Bob answers what he received; node 300 swaps the callee route-set signature for the caller's (Fig. 13). */
function answered(ring: KeyRing, invite: SipRequest): { atProxy: SipResponse; toCaller: SipResponse } {
  const received = reserialize(rng(7), invite) as SipRequest;
  stampTopVia(received, '203.0.113.1', 5060);
  const atProxy = answer(received);
  const toCaller = reserialize(rng(8), atProxy) as SipResponse;
  toCaller.shift('via');
  removeRouteSetSignature(toCaller, 0);
  signRouteSet(toCaller, 'route-set-caller', ring.signingKey('route-set'), 0);
  return { atProxy, toCaller };
}

function verdicts(reports: TraceSignature[]): Record<string, string | undefined> {
  return Object.fromEntries(reports.map((r) => [`${r.kind}@${r.header}[${r.index}]`, r.verdict]));
}

describe('seed 002 signatures (Fig. 1 through SIP node 300)', () => {
  it('signs the INVITE: Via, Record-Route and callee route set, each in its documented place', () => {
    const ring = new KeyRing({ now: () => start });
    const invite = signedInvite(ring);
    const top = invite.getAll('via')[0]!;
    expect(top).toMatch(/;vp-sig=1\.via\.[\w-]{8}\.hs128\.cfprst\.[\w-]{22}$/);
    const rr = invite.getAll('record-route')[0]!;
    expect(rr).toMatch(/^<sip:p300\.b\.example\.com;lr;vp-rs=1\.rse\.[\w-]{8}\.hs128\.cg\.[\w-]{22}>;vp-sig=1\.rr\.[\w-]{8}\.hs128\.c\.[\w-]{22}$/);
    const reports = verifySignatures(invite, { keys: ring, peer: bobPeer, now: start });
    expect(verdicts(reports)).toEqual({ 'via@Via[0]': 'valid', 'record-route@Record-Route[0]': 'valid', 'route-set-callee@Record-Route[0]': 'valid' });
    const via = reports.find((r) => r.kind === 'via')!;
    expect(via.covers.map((c) => c.item)).toEqual(['Via', 'Via', 'Via', 'Call-ID', 'From-Tag', 'Peer', 'CSeq', 'To-URI']);
    expect(via.covers[2]!.value).toBe('SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bKalice;received=2001:db8::10;rport=5062');
    const routeSet = reports.find((r) => r.kind === 'route-set-callee')!;
    expect(routeSet.covers).toEqual([
      { item: 'Route', value: 'sip:p300.b.example.com;lr' },
      { item: 'Route', value: 'sip:edge.a.example.com;lr' },
      { item: 'Route', value: 'sip:home.a.example.com;lr;transport=tcp' },
      { item: 'Remote-Target', value: 'sip:alice@[2001:db8::10]:5062;transport=udp' },
      { item: 'Call-ID', value: 'a84b4c76e66710@pc33.a.example.com' },
      { item: 'Caller-Tag', value: '1928301774' },
    ]);
  });

  it('validates the echoed Via and Record-Route in Bob\'s response, re-serialised and stamped on the way', () => {
    const ring = new KeyRing({ now: () => start });
    const { atProxy } = answered(ring, signedInvite(ring));
    expect(verdicts(verifySignatures(atProxy, { keys: ring, peer: bobPeer, now: start }))).toEqual({
      'via@Via[0]': 'valid',
      'record-route@Record-Route[0]': 'valid',
      'route-set-callee@Record-Route[0]': undefined, // an echo: checked when Bob uses it
    });
  });

  it('validates both route sets where they come back: in Bob\'s and in Alice\'s in-dialog requests', () => {
    const ring = new KeyRing({ now: () => start });
    const invite = signedInvite(ring);
    const { toCaller } = answered(ring, invite);
    expect(verdicts(verifySignatures(toCaller, { keys: ring, now: start }))).toEqual({ 'record-route@Record-Route[0]': 'valid', 'route-set-caller@Record-Route[0]': 'valid' });

    const bye = reserialize(rng(3), calleeRequest(reserialize(rng(2), invite) as SipRequest));
    expect(verdicts(verifySignatures(bye, { keys: ring, now: start }))).toEqual({ 'route-set-callee@Route[0]': 'valid' });

    // Alice's route set runs home → edge → 300; the two proxies before 300 remove their entries.
    const aliceBye = popRoute(popRoute(callerRequest(invite, toCaller)));
    expect(verdicts(verifySignatures(reserialize(rng(4), aliceBye), { keys: ring, now: start }))).toEqual({ 'route-set-caller@Route[0]': 'valid' });
  });

  it('detects forged routing: a changed Via, a Via more or less, a Record-Route detour, a changed remote target', () => {
    const ring = new KeyRing({ now: () => start });
    const invite = signedInvite(ring);
    const { atProxy, toCaller } = answered(ring, invite);
    const check = (message: SipMessage, kind: string): string | undefined => verifySignatures(message, { keys: ring, peer: bobPeer, now: start }).find((r) => r.kind === kind)?.verdict;

    const rport = atProxy.clone();
    rport.replaceAll('via', rport.getAll('via').map((v) => v.replace(/rport\s*=\s*5062/i, 'rport=9')));
    expect(rport.getAll('via')[3]).toContain('rport=9');
    expect(check(rport, 'via')).toBe('invalid');
    const fewer = atProxy.clone();
    fewer.replaceAll('via', fewer.getAll('via').slice(0, 3));
    expect(check(fewer, 'via')).toBe('invalid');
    const more = atProxy.clone();
    more.replaceAll('via', [...more.getAll('via'), 'SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKvictim']);
    expect(check(more, 'via')).toBe('invalid');
    const detour = atProxy.clone();
    detour.replaceAll('record-route', [...detour.getAll('record-route').slice(0, 2), '<sip:127.0.0.1:9;lr>', ...detour.getAll('record-route').slice(2)]);
    expect(check(detour, 'record-route')).toBe('invalid');
    expect(check(atProxy, 'via')).toBe('valid'); // and the untouched one still verifies

    const redirected = callerRequest(invite, toCaller);
    popRoute(redirected);
    const aliceBye = popRoute(popRoute(redirected));
    aliceBye.uri = 'sip:bob@127.0.0.1:9';
    expect(check(aliceBye, 'route-set-caller')).toBe('invalid');
  });

  it('binds a Via signature to the next hop (claim 9): the response must come from where the request went', () => {
    const ring = new KeyRing({ now: () => start });
    const { atProxy } = answered(ring, signedInvite(ring));
    const elsewhere = verifySignatures(atProxy, { keys: ring, peer: viaPeer('udp', '198.51.100.8', 5070), now: start }).find((r) => r.kind === 'via')!;
    expect(elsewhere.verdict).toBe('invalid');
    const unknownPeer = verifySignatures(atProxy, { keys: ring, now: start }).find((r) => r.kind === 'via')!;
    expect(unknownPeer.verdict).toBeUndefined();
    expect(unknownPeer.note).toMatch(/peer is not known/);
  });

  it('rejects a route set replayed from another dialog (Call-ID and caller tag are covered)', () => {
    const ring = new KeyRing({ now: () => start });
    const first = signedInvite(ring);
    const second = fig1Invite();
    second.set('call-id', 'another-dialog@pc33.a.example.com');
    second.set('from', '"Alice" <sip:alice@a.example.com>;tag=55555');
    const secondSigned = addProxyHeaders(second);
    signRouteSet(secondSigned, 'route-set-callee', ring.signingKey('route-set'), 0);
    const bye = calleeRequest(secondSigned);
    bye.replaceAll('route', calleeRequest(first).getAll('route')); // the replay
    expect(verdicts(verifySignatures(bye, { keys: ring, now: start }))).toEqual({ 'route-set-callee@Route[0]': 'invalid' });
    expect(verdicts(verifySignatures(calleeRequest(secondSigned), { keys: ring, now: start }))).toEqual({ 'route-set-callee@Route[0]': 'valid' });
  });

  it('reports signatures in the wrong place, malformed ones and unknown versions as invalid', () => {
    const ring = new KeyRing({ now: () => start });
    const invite = signedInvite(ring);
    const viaValue = findSignatures(invite).find((s) => s.header === 'Via')!.value;
    const moved = invite.clone();
    moved.replaceAll('record-route', [`<sip:p300.b.example.com;lr>;vp-sig=${viaValue}`, ...moved.getAll('record-route').slice(1)]);
    expect(verifySignatures(moved, { keys: ring, now: start }).find((r) => r.header === 'Record-Route')).toMatchObject({ kind: 'via', verdict: 'invalid', note: expect.stringMatching(/does not belong/) });
    const broken = invite.clone();
    broken.replaceAll('record-route', ['<sip:p300.b.example.com;lr>;vp-sig=1.rr.short', ...broken.getAll('record-route').slice(1)]);
    expect(verifySignatures(broken, { keys: ring, now: start })[1]).toMatchObject({ kind: 'record-route', verdict: 'invalid' });
    expect(() => decodeSignature('2.via.abcdefgh.hs128.c.AAAAAAAAAAAAAAAAAAAAAA')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
    expect(() => decodeSignature('1.via.abcdefgh.hs128.sc.AAAAAAAAAAAAAAAAAAAAAA')).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE_ENCODING' }));
    expect(() => decodeSignature('1.rr.abcdefgh.hs128.p.AAAAAAAAAAAAAAAAAAAAAA')).toThrow(/does not apply/);
    const value = encodeSignature({ kind: 'route-set-caller', keyId: 'abcdefgh', algorithm: 'hs128', flags: ['g', 'c'], mac: 'A'.repeat(22) });
    expect(value).toBe(`1.rsr.abcdefgh.hs128.cg.${'A'.repeat(22)}`);
    expect(decodeSignature(value)).toMatchObject({ kind: 'route-set-caller', flags: ['c', 'g'] });
  });

  it('decodes without keys: kinds, key ids, covered sets, and no verdict', () => {
    const ring = new KeyRing({ now: () => start });
    const reports = verifySignatures(signedInvite(ring), { peer: bobPeer });
    expect(reports.map((r) => [r.kind, r.keyId.length, r.covers.length > 0, r.verdict])).toEqual([
      ['via', 8, true, undefined],
      ['record-route', 8, true, undefined],
      ['route-set-callee', 8, true, undefined],
    ]);
  });
});

describe('key ring (¶[0060])', () => {
  it('rotates, keeps old keys verifying for their window, then reports them expired; unknown ids are unknown', () => {
    let now = start;
    const ring = new KeyRing({ now: () => now });
    const invite = signedInvite(ring);
    const firstVia = ring.signingKey('via').id;
    now += 6 * 60_000; // past the 5-minute rotation
    expect(ring.signingKey('via').id).not.toBe(firstVia);
    const at = (t: number): string | undefined => verifySignatures(invite, { keys: ring, peer: bobPeer, now: t }).find((r) => r.kind === 'via')?.verdict;
    expect(at(now)).toBe('valid');
    now = start + 15 * 60_000; // rotate 5 + keep 10
    ring.signingKey('via');
    expect(at(now)).toBe('expired');
    expect(verifySignatures(invite, { keys: ring, now }).find((r) => r.kind === 'route-set-callee')?.verdict).toBe('valid'); // route-set keys live for hours
    expect(verifySignatures(invite, { keys: new KeyRing({ now: () => now }), peer: bobPeer, now }).map((r) => r.verdict)).toEqual(['unknown-key', 'unknown-key', 'unknown-key']);
  });

  it('refuses keep windows outside the document\'s ranges', () => {
    expect(() => new KeyRing({ windows: { via: { rotateMs: 60_000, keepMs: 31 * 60_000 } } })).toThrow(expect.objectContaining({ code: 'BAD_KEY_WINDOW' }));
    expect(() => new KeyRing({ windows: { 'route-set': { rotateMs: 60_000, keepMs: 25 * 3_600_000 } } })).toThrow(SigningError);
    expect(() => new KeyRing({ windows: { 'record-route': { rotateMs: 0, keepMs: 10 * 60_000 } } })).toThrow(/positive/);
    expect(new KeyRing({ windows: { 'route-set': { rotateMs: 3_600_000, keepMs: 24 * 3_600_000 } } }).lifetime('route-set')).toBe(25 * 3_600_000);
  });

  it('exports verification keys a phone can load, and refuses broken key files', () => {
    const ring = new KeyRing({ now: () => start });
    const invite = signedInvite(ring);
    const file = parseVerificationKeyFile(JSON.stringify(ring.export()));
    expect(file.keys).toHaveLength(3);
    const phoneKeys = new VerificationKeys([file]);
    expect(verifySignatures(invite, { keys: phoneKeys, peer: bobPeer, now: start }).map((r) => r.verdict)).toEqual(['valid', 'valid', 'valid']);
    expect(verifySignatures(invite, { keys: phoneKeys, peer: bobPeer, now: start + 16 * 60_000 }).map((r) => r.verdict)).toEqual(['expired', 'expired', 'valid']);
    expect(() => parseVerificationKeyFile('{"format":"veilphone-signing-keys","version":1,"keys":[{"id":"x"}]}')).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE' }));
    expect(() => parseVerificationKeyFile('not json')).toThrow(/not JSON/);
  });
});

describe('pooled proxies: the sealed session key (¶[0061]-[0068], Fig. 14)', () => {
  it.each(['x25519-ed25519', 'rsa-oaep-pss'] as PoolSuite[])('%s: server B verifies what server A signed, with the key A sealed into the header', (suite) => {
    const pool = generatePoolKeys(suite);
    const ringA = new KeyRing({ now: () => start });
    const invite = signedInvite(ringA, (key) => sealSessionKey(pool, key));
    const entry = parseNameAddr(invite.getAll('record-route')[0]!);
    const sealed = entry.uri.params.find((p) => p.name === 'vp-key')!.value!;
    expect(inspectSealedKey(sealed)).toMatchObject({ suite, keyClass: 'route-set', keyId: ringA.signingKey('route-set').id, createdAt: start });
    if (suite === 'x25519-ed25519') expect(sealed.length).toBeLessThan(260);

    const ringB = new KeyRing({ now: () => start + 60_000 });
    const openerB = new SealedKeyOpener(importPoolKeys(exportPoolKeys(pool)), { lifetime: (c) => ringB.lifetime(c) });
    const atB = combineKeySources(ringB, openerB);
    const bye = calleeRequest(reserialize(rng(11), invite) as SipRequest);
    const [report] = verifySignatures(bye, { keys: atB, now: start + 60_000 });
    expect(report).toMatchObject({ kind: 'route-set-callee', verdict: 'valid', note: 'verified with the sealed pool key', sealedKey: { suite, createdAt: start } });
    verifySignatures(bye, { keys: atB, now: start + 61_000 });
    expect(openerB.opened).toBe(1); // Fig. 14 step 1026: a sealed key already opened is looked up, not opened again

    // Not a member of this pool: the pool signature does not verify.
    const stranger = new SealedKeyOpener(generatePoolKeys(suite), { lifetime: (c) => ringB.lifetime(c) });
    expect(verifySignatures(bye, { keys: stranger, now: start + 60_000 })[0]).toMatchObject({ verdict: 'invalid', note: expect.stringMatching(/suite|signature does not verify/) });
    // Older than the route-set lifetime (rotate 4 h + keep 24 h): expired, decided before decrypting.
    const late = new SealedKeyOpener(pool, { lifetime: (c) => ringB.lifetime(c) });
    expect(verifySignatures(bye, { keys: late, now: start + 28 * 3_600_000 + 1 })[0]).toMatchObject({ verdict: 'expired' });
  });

  it('refuses a sealed key that was altered, or that belongs to another key', () => {
    const pool = generatePoolKeys();
    const ringA = new KeyRing({ now: () => start });
    const invite = signedInvite(ringA, (key) => sealSessionKey(pool, key));
    const opener = (): SealedKeyOpener => new SealedKeyOpener(pool, { lifetime: () => 3_600_000 });
    const withSealed = (transform: (sealed: string) => string): SipRequest => {
      const copy = invite.clone();
      copy.replaceAll('record-route', copy.getAll('record-route').map((e, i) => (i === 0 ? e.replace(/vp-key=([\w-]+)/, (_m, s: string) => `vp-key=${transform(s)}`) : e)));
      return calleeRequest(copy);
    };
    const flip = (sealed: string): string => {
      const bytes = Buffer.from(sealed, 'base64url');
      bytes[bytes.length - 70]! ^= 1; // inside the ciphertext
      return bytes.toString('base64url');
    };
    expect(verifySignatures(withSealed(flip), { keys: opener(), now: start })[0]).toMatchObject({ verdict: 'invalid', note: expect.stringMatching(/signature does not verify/) });
    const other = sealSessionKey(pool, { id: 'otherKey', keyClass: 'route-set', secret: Buffer.alloc(32, 7), createdAt: start });
    expect(verifySignatures(withSealed(() => other), { keys: opener(), now: start })[0]).toMatchObject({ verdict: 'invalid', note: expect.stringMatching(/names route-set key/) });
    expect(() => importPoolKeys({ format: 'veilphone-pool-keys', version: 1, suite: 'x25519-ed25519', keys: { encryption: 'nope' } })).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE' }));
  });
});

describe('parsing signed messages from the wire', () => {
  it('finds signatures in compact and multi-element forms', () => {
    const ring = new KeyRing({ now: () => start });
    const wire = reserialize(rng(99), signedInvite(ring)).toString();
    const parsed = parseSipMessage(wire);
    expect(findSignatures(parsed).map((s) => `${s.header}/${s.placement}`)).toEqual(['Via/header-param', 'Record-Route/header-param', 'Record-Route/uri-param']);
  });
});
