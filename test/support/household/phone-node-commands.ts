// What the namespace phone nodes share: a JSON line per call event, and commands from stdin.
import readline from 'node:readline';
import { ToneSource } from '../../../core/media/audio-frame.js';
import type { Phone } from '../../../core/phone/phone.js';

type Print = (value: unknown) => void;

/**
 * {"incoming"|"established"|"ended": summary} once per call and kind; an established call plays a tone of `toneHz`
 * (what the other side must receive through the NAT), and its media figures are in the `ended` line.
 */
export function reportCalls(phone: Phone, print: Print, toneHz?: number): void {
  const seen = new Map<string, string>();
  phone.subscribe((event) => {
    if (event.type !== 'call' && event.type !== 'incoming') return;
    const call = event.call;
    const summary = { id: call.id, direction: call.direction, remote: call.remote.user, status: call.status, rang: call.rang, answeredElsewhere: call.answeredElsewhere, media: call.media };
    const kind = event.type === 'incoming' ? 'incoming' : call.state === 'established' ? 'established' : call.state === 'terminated' ? 'ended' : undefined;
    if (kind === undefined || seen.get(call.id) === kind) return;
    seen.set(call.id, kind);
    if (kind === 'established' && toneHz !== undefined) phone.mediaOf(call.id)?.play(new ToneSource(toneHz, 8000));
    print({ [kind]: summary });
  });
}

/** {"call": TARGET}, {"answer": CALL_ID}, {"hangup": CALL_ID}, {"media": CALL_ID} (prints {"media": figures}). */
export function takeCommands(phone: Phone, print: Print): void {
  readline.createInterface({ input: process.stdin }).on('line', (text) => {
    let command: { call?: string; answer?: string; hangup?: string; media?: string };
    try {
      command = JSON.parse(text) as typeof command;
    } catch (error) {
      print({ badCommand: (error as Error).message });
      return;
    }
    const done = (what: Promise<unknown>): void => void what.then((value) => print({ done: command, value }), (error: Error) => print({ commandFailed: error.message }));
    if (command.call !== undefined) done(phone.call({ target: command.call }).then((c) => c.id));
    else if (command.answer !== undefined) done(phone.answer(command.answer));
    else if (command.hangup !== undefined) done(phone.hangup(command.hangup));
    else if (command.media !== undefined) {
      const id = command.media;
      done(phone.snapshot().then((s) => s.calls.find((c) => c.id === id)?.media ?? null).then((media) => (print({ media: { id, ...media } }), media)));
    }
  });
}
