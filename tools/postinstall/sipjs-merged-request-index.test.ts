import { describe, expect, it } from 'vitest';
import * as userAgentCore from 'sip.js/lib/core/user-agent-core/user-agent-core.js';

interface Servers extends Map<string, unknown> {
  holdsLike(message: { callId: string; fromTag: string; cseq: number }): boolean;
}
const Servers = (userAgentCore as unknown as { VeilphoneUserAgentServers: new () => Servers }).VeilphoneUserAgentServers;

/** A user agent server as the map sees it: its transaction's request. */
const uas = (callId: string, fromTag: string, cseq: number): { transaction: { request: { callId: string; fromTag: string; cseq: number } } } => ({ transaction: { request: { callId, fromTag, cseq } } });

describe('the index of server transactions by request (tools/postinstall/sipjs-merged-request-index.js)', () => {
  it('holds a (Call-ID, From tag, CSeq) while any transaction with it is there, through replacements and clear', () => {
    const servers = new Servers();
    const like = { callId: 'c1', fromTag: 'f1', cseq: 1 };
    expect(servers.holdsLike(like)).toBe(false);
    servers.set('b1', uas('c1', 'f1', 1));
    servers.set('b2', uas('c1', 'f1', 1)); // the same request on a second branch
    expect(servers.holdsLike(like)).toBe(true);
    expect(servers.holdsLike({ ...like, cseq: 2 })).toBe(false);
    expect(servers.holdsLike({ ...like, fromTag: 'f2' })).toBe(false);
    expect(servers.holdsLike({ ...like, callId: 'c2' })).toBe(false);
    expect(servers.delete('b1')).toBe(true);
    expect(servers.delete('b1')).toBe(false); // gone already: nothing counted twice
    expect(servers.holdsLike(like)).toBe(true);
    servers.set('b2', uas('c9', 'f9', 9)); // an id given another transaction: the old one's request goes
    expect(servers.holdsLike(like)).toBe(false);
    expect(servers.holdsLike({ callId: 'c9', fromTag: 'f9', cseq: 9 })).toBe(true);
    servers.clear();
    expect(servers.holdsLike({ callId: 'c9', fromTag: 'f9', cseq: 9 })).toBe(false);
    expect(servers.size).toBe(0);
  });

  it('keeps the fields apart: a tag and a CSeq that run together are not the same request', () => {
    const servers = new Servers();
    servers.set('b1', uas('call', 'tag', 12));
    expect(servers.holdsLike({ callId: 'call', fromTag: 'tag1', cseq: 2 })).toBe(false);
  });
});
