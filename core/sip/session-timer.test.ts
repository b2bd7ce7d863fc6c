import { Core } from 'sip.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryNetwork } from '../../test/support/memory-network.js';
import { pcmuSdp, type ScriptPeer, type SipRequestMessage, type SipResponseMessage } from '../../test/support/script-peer.js';
import { bobAt, identityFacingPeer, inDialogFromPeer, inviteFromPeer, requestFromPeer, type PeerRequest } from '../../test/support/scripted-identity.js';
import { until } from '../../test/support/until.js';
import type { SipCall } from './sip-call.js';
import type { SipIdentity } from './sip-identity.js';
import { askedSessionInterval, parseSessionExpires, SessionTimer, sessionTimerRequestHeaders, uacSessionTimer, uasSessionTimer } from './session-timer.js';

describe('session timer rules (RFC 4028)', () => {
  it('reads Session-Expires and its refresher, and nothing that is not one', () => {
    expect(parseSessionExpires('1800')).toEqual({ seconds: 1800 });
    expect(parseSessionExpires('90 ; refresher=UAS;x=y')).toEqual({ seconds: 90, refresher: 'uas' });
    expect(parseSessionExpires('90;refresher=both')).toEqual({ seconds: 90 });
    for (const bad of ['', 'abc', '-5', '0', '12345678901', '1.5']) expect(parseSessionExpires(bad)).toBeUndefined();
  });

  it('as UAS (§9): refuses a short interval with 422 when the caller supports the timer, raises it when not, keeps the refresher asked for', () => {
    expect(uasSessionTimer({ supportsTimer: true })).toEqual({ kind: 'none' });
    expect(uasSessionTimer({ sessionExpires: '60', supportsTimer: true })).toEqual({ kind: 'too-small', minSe: 90 });
    expect(uasSessionTimer({ sessionExpires: '100', minSe: '120', supportsTimer: true })).toEqual({ kind: 'too-small', minSe: 120 });
    // a proxy asked for it, the caller knows nothing of timers: a 422 would fail the call, so the interval goes up and we refresh
    expect(uasSessionTimer({ sessionExpires: '60', supportsTimer: false })).toEqual({ kind: 'on', interval: 90, refresher: 'uas', headers: ['Session-Expires: 90;refresher=uas'] });
    expect(uasSessionTimer({ sessionExpires: '1800;refresher=uas', supportsTimer: true })).toEqual({ kind: 'on', interval: 1800, refresher: 'uas', headers: ['Session-Expires: 1800;refresher=uas'] });
    // refresher=uac in the 2xx requires the timer of the caller (§9)
    expect(uasSessionTimer({ sessionExpires: '1800', supportsTimer: true })).toEqual({ kind: 'on', interval: 1800, refresher: 'uac', headers: ['Session-Expires: 1800;refresher=uac', 'Require: timer'] });
    expect(uasSessionTimer({ sessionExpires: '1800;refresher=uac', supportsTimer: false }).kind === 'on' && uasSessionTimer({ sessionExpires: '1800;refresher=uac', supportsTimer: false })).toMatchObject({ refresher: 'uas' });
  });

  it('as UAC (§7.2): follows the 2xx — no Session-Expires, no timer; never below our Min-SE', () => {
    expect(uacSessionTimer(undefined)).toBeUndefined();
    expect(uacSessionTimer('90;refresher=uac')).toEqual({ interval: 90, weRefresh: true });
    expect(uacSessionTimer('90;refresher=uas')).toEqual({ interval: 90, weRefresh: false });
    expect(uacSessionTimer('1;refresher=uac')).toEqual({ interval: 90, weRefresh: true }); // no re-INVITE every second
  });

  it('refreshes at half the interval, and gives up min(32 s, a third) before it expires (§10)', () => {
    vi.useFakeTimers();
    try {
      const fired: string[] = [];
      const timer = new SessionTimer({ refresh: () => fired.push('refresh'), expire: () => fired.push('expire') });
      timer.start(1800, true);
      vi.advanceTimersByTime(899_999);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual(['refresh']);
      timer.start(1800, false);
      vi.advanceTimersByTime(1767_999);
      expect(fired).toEqual(['refresh']);
      vi.advanceTimersByTime(1);
      expect(fired).toEqual(['refresh', 'expire']);
      timer.start(90, false); // a third of 90 is less than 32
      vi.advanceTimersByTime(59_999);
      expect(fired).toHaveLength(2);
      vi.advanceTimersByTime(1);
      expect(fired.at(-1)).toBe('expire');
      timer.start(90, true);
      timer.stop();
      vi.advanceTimersByTime(100_000);
      expect(fired).toHaveLength(3);
      expect(timer.state).toBeUndefined();
      // a refresh that failed is tried again in the time left, and the session ends where the peer would end it
      fired.length = 0;
      timer.start(90, true);
      vi.advanceTimersByTime(45_000);
      expect(fired).toEqual(['refresh']);
      timer.retryRefresh(); // 60 s to give up at (90 - 30): halfway, 7.5 s
      vi.advanceTimersByTime(7_500);
      expect(fired).toEqual(['refresh', 'refresh']);
      for (let i = 0; i < 4; i++) {
        timer.retryRefresh();
        vi.advanceTimersByTime(4_000);
      }
      expect(fired.at(-1)).toBe('expire');
      // a 422 to our refresh raises the interval it asks for, only upwards
      timer.start(90, true);
      expect(timer.raiseInterval(60)).toBe(false);
      expect(timer.raiseInterval(120)).toBe(true);
      expect(timer.state).toEqual({ interval: 120, weRefresh: true });
      expect(timer.raiseInterval(86_401)).toBe(false); // more than a day: not taken
    } finally {
      vi.useRealTimers();
    }
  });

  it('a peer naming an interval beyond setTimeout (2^31 ms, 24.9 days) neither ends the call at once nor makes us re-INVITE without end', () => {
    vi.useFakeTimers();
    try {
      const fired: string[] = [];
      const timer = new SessionTimer({ refresh: () => fired.push('refresh'), expire: () => fired.push('expire') });
      timer.start(9_999_999, false); // 115 days, as a 2xx may name
      vi.advanceTimersByTime(30 * 86_400_000);
      expect(fired).toEqual([]);
      vi.advanceTimersByTime((9_999_999 - 32) * 1000 - 30 * 86_400_000);
      expect(fired).toEqual(['expire']);
      timer.start(9_999_999, true);
      vi.advanceTimersByTime(30 * 86_400_000);
      expect(fired).toEqual(['expire']);
    } finally {
      vi.useRealTimers();
    }
    // as UAS we lower such a request to a day (§9 lets us), never below its Min-SE
    expect(uasSessionTimer({ sessionExpires: '9999999;refresher=uac', supportsTimer: true })).toMatchObject({ kind: 'on', interval: 86_400 });
    expect(uasSessionTimer({ sessionExpires: '9999999', minSe: '100000', supportsTimer: true })).toMatchObject({ kind: 'on', interval: 100_000 });
  });
});

/** A Min-SE of 2 s lets a dialog's timer run in the test's time. */
const timers = { t1: 20, t2: 80, minSessionExpires: 2 };

/** RFC 4028 between a SipIdentity and a scripted peer on the in-memory network, with 3-4 s session intervals. */
describe('session timers in a dialog (RFC 4028)', () => {
  const network = new MemoryNetwork();
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  const setup = (): ReturnType<typeof identityFacingPeer> => identityFacingPeer(network, cleanup, timers);

  const invite = inviteFromPeer;

  /** A request of the peer in the dialog our 2xx `ok` made (the peer called us); a re-INVITE offers an SDP. */
  const inDialog = (peer: ScriptPeer, ok: SipResponseMessage, method: 'ACK' | 'INVITE' | 'BYE', cseq: number, branch: string, headers: string[] = []): string =>
    inDialogFromPeer(peer, ok, { method, cseq, branch, headers, body: method === 'INVITE' ? pcmuSdp(40000, cseq) : '' });

  /** The peer calls; we answer; the peer ACKs: our 2xx. */
  async function answered(peer: ScriptPeer, identity: SipIdentity, incoming: SipCall[], callId: string, headers: string[]): Promise<{ call: SipCall; ok: SipResponseMessage }> {
    await peer.send(invite(peer, identity, callId, headers), identity.local);
    const call = await until(() => incoming.find((c) => c.callId === callId));
    await call.answer();
    const ok = await peer.take(peer.response(200));
    await peer.send(inDialog(peer, ok, 'ACK', 17, `${callId}-ack`), identity.local);
    await until(() => call.state === 'established');
    return { call, ok };
  }

  it('as UAS and refresher: the 2xx says so, and a re-INVITE goes out every half interval, carrying the timer on', async () => {
    const { peer, identity, incoming } = await setup();
    const { call, ok } = await answered(peer, identity, incoming, 'st-1', ['Supported: timer', 'Session-Expires: 4;refresher=uas', 'Min-SE: 3']);
    expect(ok.get('session-expires')).toBe('4;refresher=uas');
    expect(ok.getAll('require').join(',')).not.toMatch(/timer/);
    expect(ok.getAll('supported').join(',')).toMatch(/\btimer\b/);
    const started = Date.now();
    const refresh = await peer.take(peer.request('INVITE'), 4000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(refresh.get('session-expires')).toBe('4;refresher=uac'); // we send it, and we refresh
    expect(refresh.get('min-se')).toBe('3'); // §7.4: the largest Min-SE of the dialog (the caller's, above our 2)
    expect(refresh.getAll('supported').join(',')).toMatch(/\btimer\b/); // §7.1: every request of ours says it
    expect(refresh.body).toMatch(/a=sendrecv/); // the same session, not a hold
    await peer.reply(refresh, 200, 'OK', [`Contact: <sip:carrier@127.0.0.1:${peer.endpoint.port}>`, 'Session-Expires: 4;refresher=uac', 'Require: timer'], pcmuSdp(40000, 2));
    await peer.take(peer.request('ACK'));
    // and again, two seconds on (a new re-INVITE, not one of the first one's retransmissions)
    const second = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'INVITE' && m.cseq.seq > refresh.cseq.seq, 4000);
    expect(second.get('session-expires')).toBe('4;refresher=uac');
    expect(call.state).toBe('established');
    expect(call.sessionTimerState).toEqual({ interval: 4, weRefresh: true });
  });

  it('as UAS, the caller refreshing: the 2xx requires the timer; refreshes keep the call, and without one it ends with a BYE before it expires', async () => {
    const { peer, identity, incoming } = await setup();
    const { call, ok } = await answered(peer, identity, incoming, 'st-2', ['Supported: timer', 'Session-Expires: 4']);
    expect(ok.get('session-expires')).toBe('4;refresher=uac');
    expect(ok.getAll('require').join(',')).toMatch(/\btimer\b/);
    // the peer refreshes at 1.5 s: the 2xx carries the timer, and the call outlives the first 4 s
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await peer.send(inDialog(peer, ok, 'INVITE', 18, 'st-2-refresh', ['Supported: timer', 'Session-Expires: 4;refresher=uac']), identity.local);
    const refreshed = await peer.take(peer.response(200));
    expect(refreshed.get('session-expires')).toBe('4;refresher=uac');
    expect(refreshed.getAll('require').join(',')).toMatch(/\btimer\b/);
    const refreshedAt = Date.now(); // the 2xx of the refresh left before this (the timer restarted then)
    await peer.send(inDialog(peer, ok, 'ACK', 18, 'st-2-refresh-ack'), identity.local);
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect(call.state).toBe('established'); // 3.3 s after the answer, past the first refresh's deadline (2.67 s)
    // no more refreshes: a BYE 4 - min(32, 4/3) s after the last one
    const bye = await peer.take(peer.request('BYE'), 4000);
    expect(Date.now() - refreshedAt).toBeGreaterThanOrEqual(2400);
    expect(bye.callId).toBe('st-2');
    await until(() => call.state === 'terminated');
    expect(call).toMatchObject({ endCause: { kind: 'session-expired' }, endedBy: 'network' });
  });

  it('takes a session refresh by UPDATE (RFC 3311, as Linphone sends whatever our Allow says): 2xx with the timer and our Contact, and the call lives on; an UPDATE changing the session is refused 488, a short one 422', async () => {
    const { peer, identity, incoming } = await setup();
    const { call, ok } = await answered(peer, identity, incoming, 'st-up', ['Supported: timer', 'Session-Expires: 4;refresher=uac']);
    expect(ok.getAll('allow').join(',')).not.toMatch(/UPDATE/); // not offered
    const update = (cseq: number, headers: string[], body = '', contactUser = 'carrier'): string => inDialogFromPeer(peer, ok, { method: 'UPDATE', cseq, branch: `st-up-${cseq}`, headers, body, contactUser });
    const answeredAt = Date.now();
    for (const [round, cseq] of [[1, 18], [2, 19]] as const) {
      await new Promise((resolve) => setTimeout(resolve, answeredAt + round * 1700 - Date.now()));
      // the second moves the peer (RFC 3311 §5.2: UPDATE is a target refresh request)
      await peer.send(update(cseq, ['Supported: timer', 'Session-Expires: 4;refresher=uac'], '', round === 2 ? 'moved' : 'carrier'), identity.local);
      const refreshed = await peer.take(peer.response(200, 'UPDATE'));
      expect(refreshed.get('session-expires')).toBe('4;refresher=uac');
      expect(refreshed.getAll('require').join(',')).toMatch(/\btimer\b/);
      expect(refreshed.get('contact')).toMatch(/^<sip:.*@127\.0\.0\.1:\d+/);
    }
    await new Promise((resolve) => setTimeout(resolve, answeredAt + 4500 - Date.now()));
    expect(call.state).toBe('established'); // past the first 2xx's deadline (2.67 s) and the session's 4 s
    await peer.send(update(20, ['Supported: timer', 'Session-Expires: 1'], '', 'refused'), identity.local);
    expect((await peer.take(peer.response(422, 'UPDATE'))).get('min-se')).toBe('2');
    await peer.send(update(21, ['Supported: timer', 'Session-Expires: 4;refresher=uac'], pcmuSdp(40000, 3), 'refused'), identity.local);
    await peer.take(peer.response(488, 'UPDATE'));
    // a new transaction whose CSeq is not above the last: out of order
    await peer.send(inDialogFromPeer(peer, ok, { method: 'UPDATE', cseq: 21, branch: 'st-up-late', headers: ['Supported: timer'] }), identity.local);
    await peer.take(peer.response(500, 'UPDATE'));
    // no refresh from now on: the call ends at the last refresh's deadline, 4 - min(32, 4/3) s after it
    const bye = await peer.take(peer.request('BYE'), 5000);
    expect(bye.callId).toBe('st-up');
    expect(bye.uri).toMatch(/^sip:moved@/); // where the accepted UPDATE moved it, not where the refused ones said
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(3400 + 2600);
    await until(() => call.state === 'terminated');
    expect(call).toMatchObject({ endCause: { kind: 'session-expired' } });
  });

  it('answers an UPDATE 500 when its handler throws (the transaction would swallow the retransmissions), and the fault ends the call', async () => {
    const { peer, identity, incoming } = await setup();
    const { call, ok } = await answered(peer, identity, incoming, 'st-up-throw', ['Supported: timer']);
    const dialog = call.session.dialog as unknown as { delegate: Record<string, unknown> };
    dialog.delegate = {
      ...dialog.delegate,
      onUpdate: () => {
        throw new Error('a handler that fails');
      },
    };
    await peer.send(inDialogFromPeer(peer, ok, { method: 'UPDATE', cseq: 18, branch: 'st-up-throw-u' }), identity.local);
    await peer.take(peer.response(500, 'UPDATE'));
    await until(() => call.state === 'terminated');
    expect(call.fault).toMatch(/a handler that fails/);
  });

  it('refuses an UPDATE outside a call 405 (also one whose To has a tag only in its URI), one in a call still ringing 405, one naming no dialog 481', async () => {
    const { peer, identity, incoming } = await setup();
    const update = (callId: string, more: Partial<PeerRequest> = {}): string => requestFromPeer(peer, { method: 'UPDATE', uri: bobAt(identity), callId, ...more });
    await peer.send(update('st-up-out'), identity.local);
    expect((await peer.take(peer.response(405, 'UPDATE'))).getAll('allow').join(',')).not.toMatch(/UPDATE/);
    await peer.send(update('st-up-uri-tag', { to: '<sip:bob@127.0.0.1;tag=x>' }), identity.local);
    await peer.take((m): m is SipResponseMessage => m.kind === 'response' && m.status === 405 && m.callId === 'st-up-uri-tag');
    // ringing: an early dialog takes no UPDATE
    await peer.send(inviteFromPeer(peer, identity, 'st-up-early', ['Supported: timer']), identity.local);
    const ringing = await until(() => incoming.find((c) => c.callId === 'st-up-early'));
    await ringing.ring();
    const ring = await peer.take(peer.response(180));
    await peer.send(update('st-up-early', { to: ring.get('to')!, cseq: 18, branch: 'st-up-early-u' }), identity.local);
    await peer.take((m): m is SipResponseMessage => m.kind === 'response' && m.status === 405 && m.callId === 'st-up-early' && m.cseq.method === 'UPDATE');
    await peer.send(update('st-up-none', { to: '<sip:bob@127.0.0.1>;tag=nothing' }), identity.local);
    await peer.take((m): m is SipResponseMessage => m.kind === 'response' && m.status === 481 && m.callId === 'st-up-none');
  });

  it('as UAS refuses a re-INVITE whose interval is below its Min-SE with 422, and one without Session-Expires turns the timer off', async () => {
    const { peer, identity, incoming } = await setup();
    const { call, ok } = await answered(peer, identity, incoming, 'st-3', ['Supported: timer', 'Session-Expires: 3;refresher=uac']);
    await peer.send(inDialog(peer, ok, 'INVITE', 18, 'st-3-short', ['Supported: timer', 'Session-Expires: 1']), identity.local);
    const refused = await peer.take(peer.response(422));
    expect(refused.get('min-se')).toBe('2');
    await peer.send(inDialog(peer, ok, 'ACK', 18, 'st-3-short-ack'), identity.local);
    await peer.send(inDialog(peer, ok, 'INVITE', 19, 'st-3-off'), identity.local);
    const plain = await peer.take(peer.response(200));
    expect(plain.get('session-expires')).toBeUndefined();
    await peer.send(inDialog(peer, ok, 'ACK', 19, 'st-3-off-ack'), identity.local);
    expect(call.sessionTimerState).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 3000)); // past any deadline the first 2xx set
    expect(call.state).toBe('established');
    expect(peer.received.some((m) => m.kind === 'request' && m.method === 'BYE')).toBe(false);
  });

  it('as UAS refuses an INVITE with too short an interval 422 before it rings (the phone sends what sessionIntervalRefusal says)', async () => {
    const { peer, identity, incoming } = await setup();
    await peer.send(invite(peer, identity, 'st-4', ['Supported: timer', 'Session-Expires: 1']), identity.local);
    const call = await until(() => incoming[0]);
    expect(call.sessionIntervalRefusal).toEqual({ status: 422, reason: 'Session Interval Too Small', headers: ['Min-SE: 2'] });
    await call.reject(call.sessionIntervalRefusal!.status, call.sessionIntervalRefusal!.reason, call.sessionIntervalRefusal!.headers);
    expect((await peer.take(peer.response(422))).get('min-se')).toBe('2');
  });

  it('as UAC follows the 2xx: refresher=uac, it refreshes and a 481 to its refresh ends the call; refresher=uas, it ends the call when none comes', async () => {
    const { peer, identity } = await setup();
    const contact = [`Contact: <sip:carrier@127.0.0.1:${peer.endpoint.port}>`];
    const place = async (tag: string, sessionExpires: string): Promise<{ call: SipCall; inv: SipRequestMessage }> => {
      const call = identity.createCall(`sip:carrier@127.0.0.1:${peer.endpoint.port}`);
      const status = call.invite();
      const inv = await peer.take(peer.request('INVITE'));
      expect(inv.getAll('supported').join(',')).toMatch(/\btimer\b/);
      expect(inv.get('session-expires')).toBeUndefined(); // we ask for no timer ourselves
      await peer.reply(inv, 200, 'OK', [...contact, `Session-Expires: ${sessionExpires}`, 'Require: timer'], pcmuSdp(40010), tag);
      expect(await status).toBe(200);
      await peer.take(peer.request('ACK'));
      return { call, inv };
    };
    const first = await place('uas-a', '4;refresher=uac');
    expect(first.call.sessionTimerState).toEqual({ interval: 4, weRefresh: true });
    const refresh = await peer.take(peer.request('INVITE'), 4000);
    expect(refresh.get('session-expires')).toBe('4;refresher=uac');
    await peer.reply(refresh, 481, 'Call/Transaction Does Not Exist');
    await until(() => first.call.state === 'terminated');
    expect(first.call).toMatchObject({ endCause: { kind: 'session-expired' }, endedBy: 'network' });

    const answeredAt = Date.now();
    const second = await place('uas-b', '3;refresher=uas');
    const bye = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'BYE' && m.callId === second.inv.callId, 4000);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(1800); // 3 - min(32, 1) s
    expect(bye.callId).toBe(second.inv.callId);
    expect(second.call).toMatchObject({ endCause: { kind: 'session-expired' }, endedBy: 'network' });
  });

  it('as UAC asking for a timer (§7.1): a 422 sends the INVITE again asking for its Min-SE (§7.3), and the refreshes carry that Min-SE on (§7.4)', async () => {
    const { peer, identity } = await setup();
    const contact = [`Contact: <sip:carrier@127.0.0.1:${peer.endpoint.port}>`];
    const call = identity.createCall(`sip:carrier@127.0.0.1:${peer.endpoint.port}`, { sessionExpires: 3, extraHeaders: ['X-Kept: yes'] });
    const status = call.invite();
    const first = await peer.take(peer.request('INVITE'));
    expect(first.get('session-expires')).toBe('3'); // no refresher: the callee chooses
    expect(first.get('min-se')).toBe('2'); // ours, not the default 90 s
    await peer.reply(first, 422, 'Session Interval Too Small', ['Min-SE: 4'], '', 'uas-422');
    await peer.take(peer.request('ACK'));
    const again = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'INVITE' && m.cseq.seq > first.cseq.seq);
    // the same From, tag included (RFC 3261 §8.1.3.5; tools/postinstall/sipjs-inviter-from-tag.js)
    expect([again.callId, again.cseq.seq, again.get('to'), again.get('from')]).toEqual([first.callId, first.cseq.seq + 1, first.get('to'), first.get('from')]);
    expect(again.get('session-expires')).toBe('4');
    expect(again.get('min-se')).toBe('4');
    expect(again.get('x-kept')).toBe('yes'); // the INVITE's other headers go again
    expect([call.state, call.finalStatus]).toEqual(['calling', undefined]); // the 422 is not the call's answer
    expect(again.body).toMatch(/m=audio/);
    await peer.reply(again, 200, 'OK', [...contact, 'Session-Expires: 4;refresher=uac', 'Require: timer'], pcmuSdp(40010), 'uas-ok');
    expect(await status).toBe(200);
    await peer.take(peer.request('ACK'));
    expect(call.state).toBe('established');
    expect(call.redirects).toEqual([]); // not a redirection: the call log shows one call to one target
    const refresh = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'INVITE' && m.cseq.seq > again.cseq.seq, 4000);
    expect(refresh.get('session-expires')).toBe('4;refresher=uac');
    expect(refresh.get('min-se')).toBe('4');
  });

  it('as UAC asking for a timer: a 422 that asks for no more than we did, or one after too many, ends the call (no peer keeps it going round)', async () => {
    const { peer, identity } = await setup();
    const same = identity.createCall(`sip:carrier@127.0.0.1:${peer.endpoint.port}`, { sessionExpires: 5 });
    const sameStatus = same.invite();
    const first = await peer.take(peer.request('INVITE'));
    await peer.reply(first, 422, 'Session Interval Too Small', ['Min-SE: 5'], '', 'uas-same');
    expect(await sameStatus).toBe(422);
    await until(() => same.state === 'terminated');

    const rising = identity.createCall(`sip:carrier@127.0.0.1:${peer.endpoint.port}`, { sessionExpires: 5 });
    const risingStatus = rising.invite();
    const asked: string[] = [];
    for (let round = 0; ; round++) {
      const inv = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'INVITE' && m.callId !== first.callId && !asked.includes(`${m.cseq.seq}`), 2000).catch(() => undefined);
      if (!inv) break;
      asked.push(`${inv.cseq.seq}`);
      await peer.reply(inv, 422, 'Session Interval Too Small', [`Min-SE: ${10 + round * 10}`], '', `uas-rising-${round}`);
    }
    expect(asked).toHaveLength(4); // the first INVITE and three more
    expect(await risingStatus).toBe(422);
  });

  it('asks for no interval below its own Min-SE, and none at all unless told', () => {
    expect(sessionTimerRequestHeaders(1800)).toEqual(['Session-Expires: 1800']);
    expect(sessionTimerRequestHeaders(30)).toEqual(['Session-Expires: 90']);
    expect(sessionTimerRequestHeaders(30, 120)).toEqual(['Session-Expires: 120', 'Min-SE: 120']);
    expect(askedSessionInterval({ getHeader: (name) => ({ 'session-expires': '1800', 'min-se': '120' })[name] })).toEqual({ seconds: 1800, minSe: 120 });
    expect(askedSessionInterval({ getHeader: (name) => (name === 'x' ? '600' : undefined) })).toEqual({ seconds: 600, minSe: 0 });
    expect(askedSessionInterval({ getHeader: () => undefined })).toBeUndefined();
  });

  it('a 2xx to our refresh that comes after the call ended (a frozen peer come back) changes nothing and tells no one', async () => {
    const { peer, identity, incoming } = await setup();
    const { call } = await answered(peer, identity, incoming, 'st-late', ['Supported: timer', 'Session-Expires: 4;refresher=uas']);
    const refresh = await peer.take(peer.request('INVITE'), 4000);
    await call.hangup();
    const bye = await peer.take(peer.request('BYE'));
    await peer.reply(bye, 200, 'OK');
    await until(() => call.state === 'terminated');
    let told = 0;
    call.onChange(() => told++);
    await peer.reply(refresh, 200, 'OK', [`Contact: <sip:carrier@127.0.0.1:${peer.endpoint.port}>`, 'Session-Expires: 4;refresher=uac', 'Require: timer'], pcmuSdp(40000, 2));
    await peer.take(peer.request('ACK')); // sip.js acknowledges it all the same (RFC 3261 §13.2.2.4)
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(told).toBe(0);
    expect(call.sessionTimerState).toBeUndefined();
  });

  it('a refresh due while the user\'s hold is on its way waits for it and offers the hold (the microphone stays off)', async () => {
    const { peer, identity, incoming } = await setup();
    const { call } = await answered(peer, identity, incoming, 'st-5', ['Supported: timer', 'Session-Expires: 4;refresher=uas']);
    await new Promise((resolve) => setTimeout(resolve, 1700));
    const holding = call.hold(true);
    const hold = await peer.take(peer.request('INVITE'));
    expect(hold.body).toMatch(/a=sendonly/);
    await new Promise((resolve) => setTimeout(resolve, 700)); // the refresh falls due (2 s) while the hold is unanswered
    await peer.reply(hold, 200, 'OK', [`Contact: <sip:carrier@127.0.0.1:${peer.endpoint.port}>`, 'Session-Expires: 4;refresher=uac', 'Require: timer'], pcmuSdp(40000, 2));
    expect(await holding).toBe(200);
    await peer.take(peer.request('ACK'));
    // the next re-INVITE (the hold's own retransmissions, sent while it waited, are not it)
    const refresh = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && m.method === 'INVITE' && m.cseq.seq > hold.cseq.seq, 4000);
    expect(refresh.get('session-expires')).toBe('4;refresher=uac');
    expect(refresh.body).toMatch(/a=sendonly/);
    expect(call.localHold).toBe(true);
  });

  it('a 422 to our refresh is answered at once with its Min-SE; a refresh that keeps failing (488) ends the call where the peer would, not before', async () => {
    const { peer, identity, incoming } = await setup();
    const { call } = await answered(peer, identity, incoming, 'st-6', ['Supported: timer', 'Session-Expires: 6;refresher=uas']);
    const answeredAt = Date.now();
    const first = await peer.take(peer.request('INVITE'), 5000);
    expect(first.get('session-expires')).toBe('6;refresher=uac');
    await peer.reply(first, 422, 'Session Interval Too Small', ['Min-SE: 8']);
    await peer.take(peer.request('ACK'));
    const again = await peer.take(peer.request('INVITE'), 2000);
    expect(again.get('session-expires')).toBe('8;refresher=uac');
    // from now on every refresh is refused: the session still ends at the first 2xx's deadline, 6 - 2 = 4 s after it
    await peer.reply(again, 488, 'Not Acceptable Here');
    for (;;) {
      const next = await peer.take((m): m is SipRequestMessage => m.kind === 'request' && (m.method === 'INVITE' || m.method === 'BYE'), 5000);
      if (next.method === 'BYE') break;
      expect(next.get('session-expires')).toBe('8;refresher=uac');
      await peer.reply(next, 488, 'Not Acceptable Here');
    }
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(3500);
    expect(Date.now() - answeredAt).toBeLessThan(6000);
    await until(() => call.state === 'terminated');
    expect(call).toMatchObject({ endCause: { kind: 'session-expired' }, endedBy: 'network' });
  });

  it('a peer that never ACKs the 2xx to its refresh: the 2xx is retransmitted, then the call ends with a BYE (RFC 3261 §13.3.1.4) and its timer with it', async () => {
    const timerL = Core.Timers.TIMER_L;
    Core.Timers.TIMER_L = 1500; // the 2xx's ACK wait, 64·T1: 32 s with sip.js's own T1
    cleanup.push(() => void (Core.Timers.TIMER_L = timerL));
    const { peer, identity, incoming } = await setup();
    const { call, ok } = await answered(peer, identity, incoming, 'st-7', ['Supported: timer', 'Session-Expires: 8;refresher=uac']);
    await peer.send(inDialog(peer, ok, 'INVITE', 18, 'st-7-refresh', ['Supported: timer', 'Session-Expires: 8;refresher=uac']), identity.local);
    const refreshed = await peer.take(peer.response(200));
    expect(refreshed.get('session-expires')).toBe('8;refresher=uac');
    await peer.take(peer.response(200)); // again: no ACK came
    const bye = await peer.take(peer.request('BYE'), 4000);
    expect(bye.callId).toBe('st-7');
    await until(() => call.state === 'terminated');
    expect(call.sessionTimerState).toBeUndefined();
  });
});
