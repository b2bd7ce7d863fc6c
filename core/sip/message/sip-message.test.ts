import { describe, expect, it } from 'vitest';
import { parseSipMessage } from './parse-sip-message.js';
import { SipRequest } from './sip-message.js';
import { formatVia, parseVia, type Via } from './via.js';

/** The top Via as the message reads it without keeping it: the first element of every Via line, parsed. */
function reference(message: SipRequest): Via | undefined {
  const first = message.getAll('via')[0];
  return first === undefined ? undefined : parseVia(first);
}

describe('SipMessage.topVia', () => {
  it('parses the top Via once (validation included) and gives every reader the same object', () => {
    const message = parseSipMessage(
      'OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport\r\nVia: SIP/2.0/TCP [2001:db8::1];branch=z9hG4bK0\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    ) as SipRequest;
    const top = message.topVia!;
    expect(message.topVia).toBe(top);
    expect(top).toEqual(reference(message));
  });

  it('keeps a copy of what setTopVia was given', () => {
    const message = new SipRequest('OPTIONS', 'sip:b@example.com', [{ name: 'Via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1' }]);
    const via: Via = { transport: 'UDP', host: '192.0.2.9', port: 5070, params: [{ name: 'branch', value: 'z9hG4bK2' }] };
    message.setTopVia(via);
    via.params[0]!.value = 'changed';
    via.params.push({ name: 'maddr', value: '192.0.2.99' });
    via.host = 'changed.example.com';
    expect(message.topVia).toEqual({ transport: 'UDP', host: '192.0.2.9', port: 5070, params: [{ name: 'branch', value: 'z9hG4bK2' }] });
    expect(message.getAll('via')).toEqual(['SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK2']);
  });

  it('follows every change to the Via lines: 3,000 random edits, each read against the lines as they are', () => {
    let seed = 7;
    const random = (n: number): number => {
      // mulberry32: every bit of it varies, unlike a power-of-two LCG's low bits
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const seen = new Set<number>();
    const vias = ['SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa', 'SIP/2.0/TCP h.example.com;branch=z9hG4bKb;rport', 'SIP/2.0/UDP [2001:db8::2]:5062;branch=z9hG4bKc;received=192.0.2.7', 'SIP/2.0/WS x.invalid;branch=z9hG4bKd'];
    const line = (): string => [' ', '', vias[random(4)]!, `${vias[random(4)]!}, ${vias[random(4)]!}`, ` , ${vias[random(4)]!}`][random(5)]!;
    const message = new SipRequest('OPTIONS', 'sip:b@example.com', [{ name: 'Via', value: vias[0]! }, { name: 'To', value: '<sip:b@example.com>' }]);
    for (let step = 0; step < 3000; step++) {
      const edit = random(8);
      seen.add(edit);
      switch (edit) {
        case 0: {
          const before = message.getAll('via');
          expect(message.shift('via')).toBe(before[0]);
          expect(message.getAll('via')).toEqual(before.slice(1));
          break;
        }
        case 1:
          message.prepend(random(2) === 0 ? 'Via' : 'v', line());
          break;
        case 2: {
          const header = message.headers.find((h) => h.name.toLowerCase() === 'via' || h.name === 'v');
          if (header) header.value = line(); // as header-elements.ts edits an element in place
          break;
        }
        case 3: {
          const before = message.getAll('via');
          const via = parseVia(vias[random(4)]!);
          const given = random(2) === 0 ? via : { ...via, transport: via.transport.toLowerCase() }; // read back upper-cased
          message.setTopVia(given);
          // the top element replaced, the others kept (a line with no element is no top Via)
          expect(message.getAll('via')).toEqual([formatVia(given), ...before.slice(1)]);
          break;
        }
        case 4:
          message.append('Via', line());
          break;
        case 5:
          message.replaceAll('via', [vias[random(4)]!, vias[random(4)]!]);
          break;
        case 6:
          if (random(10) === 0) message.remove('via');
          break;
        default:
          break; // read twice in a row
      }
      expect(message.topVia).toEqual(reference(message));
    }
    expect(seen.size).toBe(8);
  });
});

describe('reason phrases we send (RFC 3261 §25.1 Reason-Phrase)', () => {
  it('are made grammatical: a host in brackets, a parse error quoting <uri>, controls', async () => {
    const { grammaticalReason } = await import('./create-response.js');
    expect(grammaticalReason('Not Found (no route to [2001:db8::1])')).toBe('Not Found (no route to (2001:db8::1))');
    expect(grammaticalReason('Bad Request (quoted display name without <uri>)')).toBe('Bad Request (quoted display name without (uri))');
    expect(grammaticalReason('Bad "quote" {x} a|b\\c^d`e\u0001\n')).toBe("Bad 'quote' (x) a/b/c/d'e  ");
    expect(grammaticalReason('Über OK; x=1 / y?z:@&=+$,')).toBe('Über OK; x=1 / y?z:@&=+$,');
    expect(grammaticalReason('Not Found #7, 100% sure, %41 kept')).toBe('Not Found /7, 100 percent sure, %41 kept');
  });
});
