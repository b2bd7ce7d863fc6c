import { describe, expect, it } from 'vitest';
import { parseSipMessage, type SipRequest } from '../message/index.js';
import { phoneUasPolicy, screenUasRequest } from './uas-screen.js';

function request(method: string, extra: string[] = [], body = ''): SipRequest {
  const lines = [
    `${method} sip:user@127.0.0.1 SIP/2.0`,
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1',
    'From: <sip:a@127.0.0.1>;tag=1',
    'To: <sip:user@127.0.0.1>',
    'Call-ID: screen',
    `CSeq: 1 ${method}`,
    ...extra,
    `Content-Length: ${body.length}`,
  ];
  return parseSipMessage(`${lines.join('\r\n')}\r\n\r\n${body}`) as SipRequest;
}

const policy = { ...phoneUasPolicy, supported: () => ['outbound'] };

describe('screenUasRequest (RFC 3261 §8.2)', () => {
  it('refuses a method the phone does not take with 405 and the true Allow, an unknown one with 501', () => {
    const register = screenUasRequest(request('REGISTER'), policy)!;
    expect([register.status, register.get('allow'), register.get('to')]).toEqual([405, 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, PRACK, REFER, NOTIFY', expect.stringMatching(/;tag=/)]);
    expect(screenUasRequest(request('MESSAGE'), policy)!.status).toBe(405);
    const unknown = screenUasRequest(request('NEWMETHOD'), policy)!;
    expect([unknown.status, unknown.get('allow')]).toEqual([501, 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, PRACK, REFER, NOTIFY']);
  });

  it('takes REFER and NOTIFY (transfer, RFC 3515) within a dialog, and refuses a REFER outside one with 403', () => {
    const inDialog = request('REFER', ['Refer-To: <sip:c@127.0.0.1>']);
    inDialog.set('to', '<sip:user@127.0.0.1>;tag=abc');
    expect(screenUasRequest(inDialog, policy)).toBeUndefined();
    expect(screenUasRequest(request('NOTIFY', ['Event: refer']), policy)).toBeUndefined();
    const outside = screenUasRequest(request('REFER', ['Refer-To: <sip:c@127.0.0.1>']), policy)!;
    expect([outside.status, outside.reason]).toEqual([403, 'Forbidden (REFER only within a call)']);
  });

  it('takes INFO within a dialog only: one outside names no call (481), not the 405 that contradicted our Allow', () => {
    const inDialog = request('INFO', ['Content-Type: application/dtmf-relay'], 'Signal=5\r\n');
    inDialog.set('to', '<sip:user@127.0.0.1>;tag=abc');
    expect(screenUasRequest(inDialog, policy)).toBeUndefined();
    const outside = screenUasRequest(request('INFO', ['Content-Type: application/dtmf-relay'], 'Signal=5\r\n'), policy)!;
    expect([outside.status, outside.reason]).toEqual([481, 'Call/Transaction Does Not Exist (INFO only within a call)']);
  });

  it('refuses option tags it does not support with 420, but never an ACK or a CANCEL, and lets supported ones pass', () => {
    const refused = screenUasRequest(request('OPTIONS', ['Require: outbound, nothingSupportsThis', 'Proxy-Require: forProxiesOnly']), policy)!;
    expect([refused.status, refused.get('unsupported')]).toEqual([420, 'nothingSupportsThis']);
    expect(screenUasRequest(request('OPTIONS', ['Require: outbound']), policy)).toBeUndefined();
    expect(screenUasRequest(request('CANCEL', ['Require: nothingSupportsThis']), policy)).toBeUndefined();
    expect(screenUasRequest(request('ACK', ['Require: nothingSupportsThis']), policy)).toBeUndefined();
  });

  it('takes an INVITE with SDP (any spelling), refuses another body with 415 and an Accept without SDP with 406', () => {
    expect(screenUasRequest(request('INVITE', ['Content-Type: Application/SDP; charset=x'], 'v=0\r\n'), policy)).toBeUndefined();
    expect(screenUasRequest(request('INVITE', ['Accept: application/*', 'Content-Type: application/sdp'], 'v=0\r\n'), policy)).toBeUndefined();
    const media = screenUasRequest(request('INVITE', ['Content-Type: application/unknownformat'], '<audio/>'), policy)!;
    expect([media.status, media.get('accept')]).toEqual([415, 'application/sdp']);
    expect(screenUasRequest(request('INVITE', ['Accept: text/nobodyKnowsThis']), policy)!.status).toBe(406);
    expect(screenUasRequest(request('INVITE', ['Accept: text/plain, */*']), policy)).toBeUndefined();
  });
});
