import type { AnswerMode, CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { ToneSource } from '../../core/media/audio-frame.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';

/**
 * Several scripted parties in one Phone in the test process, one account each on the served phone's lab: each
 * answers as its answer mode says (by itself, never, or with a refusal such as 486 or 404), and every call it
 * answers carries a tone.
 */
export class CalleeAgents {
  readonly phone: Phone;
  readonly events: PhoneEvent[] = [];
  private readonly playing = new Set<string>();

  constructor(options: { server: string; domain: string; toneHz: number; agents: Array<{ user: string; display?: string; answer: AnswerMode }> }) {
    this.phone = new Phone({
      accounts: options.agents.map((a) => ({ id: a.user, user: a.user, server: options.server, transport: 'udp' as const, domain: options.domain, answer: a.answer, ...(a.display ? { displayName: a.display } : {}) })),
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
    });
    this.phone.subscribe((event) => {
      if (this.events.length < 5000) this.events.push(event);
      if (event.type === 'call' && event.call.state === 'established' && !this.playing.has(event.call.id)) {
        const media = this.phone.mediaOf(event.call.id);
        if (media) {
          this.playing.add(event.call.id);
          media.play(new ToneSource(options.toneHz, 8000));
        }
      }
    });
  }

  async registerAll(): Promise<void> {
    const snapshot = await this.phone.snapshot();
    await Promise.all(snapshot.accounts.map((a) => this.phone.register(a.id)));
  }

  /** End every call of every agent that is not over yet (a failed test leaves no call behind for the next one). */
  async hangUpAll(): Promise<void> {
    const open = this.events.flatMap((e) => (e.type === 'call' || e.type === 'incoming' ? [e.call] : []));
    const latest = new Map(open.map((c) => [c.id, c]));
    const ending = [...latest.values()].filter((c) => c.state !== 'terminated').map((c) => this.phone.hangup(c.id));
    await Promise.allSettled(ending); // a call that ended meanwhile refuses the hang-up: nothing left to end
  }

  /** The latest view of each call of one agent. */
  calls(accountId: string): CallSnapshot[] {
    const latest = new Map<string, CallSnapshot>();
    for (const event of this.events) if ((event.type === 'call' || event.type === 'incoming') && event.call.accountId === accountId) latest.set(event.call.id, event.call);
    return [...latest.values()];
  }

  /** The agent's newest call in `state`, if any. */
  latest(accountId: string, state: CallSnapshot['state']): CallSnapshot | undefined {
    return this.calls(accountId).filter((c) => c.state === state).at(-1);
  }
}
