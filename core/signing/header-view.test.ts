import { describe, expect, it } from 'vitest';
import { parseSipMessage } from '../sip/message/index.js';
import { headerView } from './header-view.js';

const invite = (): ReturnType<typeof parseSipMessage> =>
  parseSipMessage(
    [
      'INVITE sip:bob@127.0.0.1 SIP/2.0',
      'v: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb',
      'VIA: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKc',
      'Record-Route: <sip:127.0.0.1;lr>',
      'f: "Smith, Al" <sip:al@127.0.0.1>;tag=1',
      'To: <sip:bob@127.0.0.1>',
      'i: abc@host',
      'CSeq: 1 INVITE',
      'Contact: "A, B" <sip:al@127.0.0.1:5070>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );

describe('HeaderView', () => {
  it('finds headers by long lower-case name whatever their spelling or compact form, and splits list headers outside quotes', () => {
    const view = headerView(invite());
    expect(view.all('via')).toEqual(['SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKb', 'SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKc']);
    expect(view.one('from')).toBe('"Smith, Al" <sip:al@127.0.0.1>;tag=1');
    expect(view.all('from')).toEqual(['"Smith, Al" <sip:al@127.0.0.1>;tag=1']); // not a list header: never split
    expect(view.all('contact')).toEqual(['"A, B" <sip:al@127.0.0.1:5070>']);
    expect(view.one('call-id')).toBe('abc@host');
    expect(view.one('route')).toBeUndefined();
    expect(view.all('route')).toEqual([]);
  });

  it('keeps the lines as they were when it was made: a signer edits the message after reading it', () => {
    const message = invite();
    const view = headerView(message);
    message.headers.find((h) => h.name === 'Record-Route')!.value = '<sip:127.0.0.1;lr>;vp-sig=x';
    message.headers.push({ name: 'Route', value: '<sip:127.0.0.2;lr>' });
    expect(view.all('record-route')).toEqual(['<sip:127.0.0.1;lr>']);
    expect(view.all('route')).toEqual([]);
    expect(headerView(message).all('record-route')).toEqual(['<sip:127.0.0.1;lr>;vp-sig=x']);
  });

  it('splits a list header once and hands every reader the same elements (read-only by their type)', () => {
    const message = invite();
    const view = headerView(message);
    const vias = view.all('via');
    expect(view.all('via')).toBe(vias);
    expect(view.all('record-route')).not.toBe(vias);
    expect(view.all('via')).toEqual(message.getAll('via'));
    message.headers.find((h) => h.name === 'VIA')!.value = 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKd';
    expect(view.all('via')).toBe(vias); // a view is the message as it was when the view was made
  });

  it('reads the From and To tags once, as addressTag does, and says why when a header does not read', () => {
    const message = invite();
    const view = headerView(message);
    expect(view.tag('from')).toBe('1');
    expect(view.tag('to')).toBeUndefined();
    message.headers.find((h) => h.name === 'f')!.value = '<sip:al@127.0.0.1>;tag=2';
    expect(view.tag('from')).toBe('1');
    expect(headerView(message).tag('from')).toBe('2');
    message.headers.find((h) => h.name === 'To')!.value = '<sip:bob@127.0.0.1';
    const broken = headerView(message);
    expect(() => broken.tag('to')).toThrow();
    expect(() => broken.tag('to')).toThrow(); // nothing half-read is kept
  });

  it('keeps what an earlier view of the message read of the lines that did not change', () => {
    const message = invite();
    const before = headerView(message);
    expect(before.tag('from')).toBe('1');
    message.headers.find((h) => h.name === 'Record-Route')!.value = '<sip:127.0.0.1;lr>;vp-sig=x';
    const after = headerView(message, before);
    expect(after.tag('from')).toBe('1');
    message.headers.find((h) => h.name === 'f')!.value = '<sip:al@127.0.0.1>;tag=2';
    expect(headerView(message, before).tag('from')).toBe('2'); // a changed line is read again
    expect(after.all('record-route')).toEqual(['<sip:127.0.0.1;lr>;vp-sig=x']);
  });
});
