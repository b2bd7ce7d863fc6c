import type { CapturedSip } from '../test/support/capture-scan.js';

/**
 * Request → response times as a capture saw them, on the leg between a client and the server at `serverPort`:
 * the first copy of each request the client sent there (retransmissions ignored), to the first final response
 * (`status`, e.g. 200) the server sent back for the same Call-ID and CSeq (RFC 3261 §17.1.1: the transaction). Both
 * sides of a benchmark are timed the same way, from packet timestamps.
 */
export function wireTimes(messages: readonly CapturedSip[], options: { serverPort: number; method: string; status: number; side?: 'client' | 'callee' }): number[] {
  const sent = new Map<string, number>();
  const times: number[] = [];
  // `callee`: the other leg, the request the server forwarded to an agent → that agent's response (its own delay)
  const toServer = (message: CapturedSip): boolean => message.dstPort === options.serverPort;
  const fromServer = (message: CapturedSip): boolean => message.srcPort === options.serverPort;
  const [requestLeg, responseLeg] = options.side === 'callee' ? [fromServer, toServer] : [toServer, fromServer];
  for (const message of messages) {
    const cseq = /^CSeq[ \t]*:[ \t]*(\d+)[ \t]+(\S+)/im.exec(message.raw);
    if (!cseq || cseq[2] !== options.method || message.callId === undefined) continue;
    const key = `${message.callId} ${cseq[1]}`;
    if (requestLeg(message) && message.raw.startsWith(`${options.method} `)) {
      if (!sent.has(key)) sent.set(key, message.at);
    } else if (responseLeg(message) && message.raw.startsWith(`SIP/2.0 ${options.status} `)) {
      const at = sent.get(key);
      if (at !== undefined) {
        times.push(message.at - at);
        sent.delete(key);
      }
    }
  }
  return times;
}

/**
 * Requests started per second on the wire: the first copy of each `method` request (by Call-ID) sent to the server at
 * `serverPort`, (n − 1) over the time from the first to the last. Both sides of the load benchmark are rated this way.
 */
export function wireRate(messages: readonly CapturedSip[], options: { serverPort: number; method: string }): number {
  const first = new Map<string, number>();
  for (const message of messages) {
    if (message.dstPort !== options.serverPort || message.callId === undefined || !message.raw.startsWith(`${options.method} `)) continue;
    if (!first.has(message.callId)) first.set(message.callId, message.at);
  }
  const times = [...first.values()];
  if (times.length < 2) return times.length;
  return ((times.length - 1) * 1000) / (Math.max(...times) - Math.min(...times));
}
