import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CallResult } from '../../core/api/call-log-types.js';
import { CallLogStore } from '../../core/calllog/call-log-store.js';
import { migrations } from '../../core/calllog/schema.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';

/**
 * A large, realistic call log for benchmarks and UI tests: `calls` calls over the last `days` days (newest last),
 * each with a short trace, and one "showcase" call with `showcaseMessages` messages whose Record-Route and Via carry
 * signature parameters (seed 002 style) — the call a support engineer opens.
 */
export interface SeedOptions {
  calls: number;
  /** Messages per ordinary call (INVITE, 100, 180, 200, ACK, BYE, 200 … cut to this many). */
  messagesPerCall?: number;
  showcaseMessages?: number;
  days?: number;
  now?: number;
  /**
   * Reuse a log seeded with the same options today (kept in the OS temp folder): seeding 100,000 calls through the
   * store, search index included, takes tens of seconds on a busy machine; copying the file takes a moment.
   */
  cache?: boolean;
}

export interface SeededLog {
  showcaseId: string;
  showcaseSipCallId: string;
  /** A number that exactly one call has (the showcase's). */
  showcaseNumber: string;
}

const results: CallResult[] = ['answered', 'answered', 'answered', 'missed', 'busy', 'failed', 'cancelled', 'rejected'];
const statuses: Record<string, number> = { answered: 200, busy: 486, failed: 503, cancelled: 487, rejected: 603 };
const reasons: Record<number, string> = { 200: 'OK', 486: 'Busy Here', 503: 'Service Unavailable', 487: 'Request Terminated', 603: 'Decline' };
const phone = '127.0.0.1:40000';
const proxy = '127.0.0.1:5060';

function request(method: string, to: string, callId: string, cseq: number, extra = ''): string {
  return [`${method} sip:${to}@lab.invalid SIP/2.0`, 'Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK' + callId.slice(0, 10) + cseq + method.length + ';rport', `From: <sip:alice@lab.invalid>;tag=a${cseq}`, `To: <sip:${to}@lab.invalid>`, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, 'Max-Forwards: 70', extra, 'Content-Length: 0', '', '']
    .filter((line, i, all) => line !== '' || i >= all.length - 2)
    .join('\r\n');
}

function response(status: number, method: string, to: string, callId: string, cseq: number, extra = ''): string {
  return [`SIP/2.0 ${status} ${reasons[status] ?? (status === 100 ? 'Trying' : status === 180 ? 'Ringing' : 'OK')}`, 'Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK' + callId.slice(0, 10) + cseq + method.length + ';rport=40000;received=127.0.0.1', `From: <sip:alice@lab.invalid>;tag=a${cseq}`, `To: <sip:${to}@lab.invalid>;tag=b1`, `Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`, extra, 'Content-Length: 0', '', '']
    .filter((line, i, all) => line !== '' || i >= all.length - 2)
    .join('\r\n');
}

/** A dialog's messages in order: INVITE, 100, 180, final, ACK, then re-INVITEs and INFOs, BYE, 200. */
function dialog(to: string, callId: string, count: number, final: number, at: number, signed: boolean): SipTapEntry[] {
  const rr = signed ? 'Record-Route: <sip:127.0.0.1:5060;lr;rs-sig=AAECAwQFBgcICQoLDA0ODw>;rr-sig="k1.hmac256.5d41402abc4b2a76b9719d911017c592"' : '';
  const out: SipTapEntry[] = [];
  const push = (dir: 'in' | 'out', raw: string): void => void out.push({ dir, at: at + out.length * 7, transport: 'udp', local: phone, remote: proxy, raw });
  push('out', request('INVITE', to, callId, 1));
  push('in', response(100, 'INVITE', to, callId, 1));
  push('in', response(180, 'INVITE', to, callId, 1, rr));
  push('in', response(final, 'INVITE', to, callId, 1, rr));
  push('out', request('ACK', to, callId, 1));
  let cseq = 2;
  while (out.length < count - 2) {
    const method = cseq % 2 === 0 ? 'INFO' : 'INVITE';
    push('out', request(method, to, callId, cseq, signed ? 'Route: <sip:127.0.0.1:5060;lr;rs-sig=AAECAwQFBgcICQoLDA0ODw>' : ''));
    push('in', response(200, method, to, callId, cseq, rr));
    cseq++;
  }
  push('out', request('BYE', to, callId, cseq));
  push('in', response(200, 'BYE', to, callId, cseq));
  return out.slice(0, count);
}

/** Bump when the seeded content changes, so cached files are not reused. */
const seedFormat = 1;

/** Fill `file` (which must not exist yet) with the seeded calls, or copy a cached file seeded the same way. */
export function seedCallLog(file: string, options: SeedOptions): SeededLog {
  if (!options.cache) return seedInto(file, options);
  const { cache: _cache, now: _now, ...shape } = options;
  const day = new Date().toISOString().slice(0, 10);
  const key = createHash('sha256').update(JSON.stringify({ shape, day, seedFormat, migrations })).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'veilphone-seed-cache');
  const cached = path.join(dir, `${key}.sqlite`);
  const meta = `${cached}.json`;
  if (!fs.existsSync(cached) || !fs.existsSync(meta)) {
    fs.mkdirSync(dir, { recursive: true });
    for (const old of fs.readdirSync(dir)) if (!old.startsWith(key)) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
    const building = path.join(fs.mkdtempSync(path.join(dir, `${key}-building-`)), 'calllog.sqlite');
    const seeded = seedInto(building, options);
    fs.renameSync(building, cached); // the store was closed, so its WAL was checkpointed into the file
    fs.writeFileSync(meta, JSON.stringify(seeded));
    fs.rmSync(path.dirname(building), { recursive: true, force: true });
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(cached, file);
  return JSON.parse(fs.readFileSync(meta, 'utf8')) as SeededLog;
}

function seedInto(file: string, options: SeedOptions): SeededLog {
  const now = options.now ?? Date.now();
  const span = (options.days ?? 90) * 86_400_000;
  const perCall = options.messagesPerCall ?? 4;
  const store = CallLogStore.open(file, { retentionIntervalMs: 0 });
  const showcaseAt = Math.floor(options.calls / 2);
  const seeded: SeededLog = { showcaseId: '', showcaseSipCallId: '', showcaseNumber: '0399887766' };
  try {
    for (let from = 0; from < options.calls; from += 5000) {
      store.batch(() => {
        for (let i = from; i < Math.min(options.calls, from + 5000); i++) {
          const startedAt = Math.round(now - span + (span * (i + 1)) / (options.calls + 1));
          const showcase = i === showcaseAt;
          const id = `seed-${String(i).padStart(7, '0')}`;
          const sipCallId = `${id}-${(i * 2654435761) % 4294967296}@lab.invalid`;
          const result = showcase ? 'answered' : results[i % results.length]!;
          const direction = i % 3 === 1 ? 'incoming' : 'outgoing';
          const number = showcase ? seeded.showcaseNumber : `03${String(10_000_000 + ((i * 7919) % 90_000_000)).padStart(8, '0')}`;
          const anonymous = !showcase && i % 11 === 0;
          const user = i % 4 === 0 ? `user${i % 997}` : number;
          store.startCall({
            id,
            accountId: 'alice',
            direction,
            sipCallId,
            remoteShown: anonymous && direction === 'incoming' ? 'Anonymous' : i % 5 === 0 ? `Person ${i % 499}` : user,
            remoteUri: `sip:${user}@lab.invalid`,
            remoteUser: user,
            remoteAnonymous: anonymous && direction === 'incoming',
            startedAt,
            localSip: phone,
            remoteSip: proxy,
            transport: 'udp',
            localAddress: '127.0.0.1',
            ports: { min: 16384, max: 32767 },
            ...(direction === 'outgoing' ? { dialed: anonymous ? `184${number}` : number, sentRequestUri: `sip:${anonymous ? '184' : ''}${user}@lab.invalid`, anonymity: anonymous ? 'prefix' : 'none' } : {}),
          });
          const status = statuses[result];
          const messages = dialog(user, sipCallId, showcase ? (options.showcaseMessages ?? 30) : perCall, status ?? 480, startedAt, showcase);
          for (const message of messages) store.appendMessage(id, message);
          store.updateCall(id, {
            result,
            ...(status !== undefined ? { status, reason: reasons[status]! } : {}),
            ...(result === 'answered' ? { answeredAt: startedAt + 900, endedAt: startedAt + 900 + (i % 600) * 1000, endedBy: i % 2 ? 'remote' : 'local', localRtp: '127.0.0.1:16384', remoteRtp: '127.0.0.1:20000', codec: 'PCMU' } : { endedAt: startedAt + 5000 }),
          });
          if (showcase) Object.assign(seeded, { showcaseId: id, showcaseSipCallId: sipCallId });
        }
      });
    }
  } finally {
    store.close();
  }
  return seeded;
}
