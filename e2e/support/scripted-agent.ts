import type { AccountConfig, CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { ToneSource } from '../../core/media/audio-frame.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import type { SipTapEntry } from '../../core/sip/transport/message-tap.js';

/**
 * The other party of the end-to-end calls: a Phone in the test process on the served phone's lab. It answers by
 * itself, plays a tone into every established call (what the UI user must hear), and keeps what it saw — calls,
 * DTMF digits, the raw SIP it received — for the test to check from its side.
 */
export class ScriptedAgent {
  readonly phone: Phone;
  readonly events: PhoneEvent[] = [];
  readonly received: SipTapEntry[] = [];
  private readonly playing = new Set<string>();

  constructor(options: { user: string; display?: string; server: string; domain: string; toneHz: number; transport?: AccountConfig['transport']; tls?: AccountConfig['tls'] }) {
    this.phone = new Phone({
      accounts: [
        {
          id: options.user,
          user: options.user,
          server: options.server,
          transport: options.transport ?? 'udp',
          domain: options.domain,
          answer: { kind: 'auto' },
          ...(options.display ? { displayName: options.display } : {}),
          ...(options.tls ? { tls: options.tls } : {}),
        },
      ],
      createSessionDescriptionHandlerFactory: defaultMediaProvider,
      onTrace: (_account, entry) => {
        if (entry.dir === 'in' && this.received.length < 2000) this.received.push(entry);
      },
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

  /** The agent's latest view of each call it had. */
  calls(): CallSnapshot[] {
    const latest = new Map<string, CallSnapshot>();
    for (const event of this.events) if (event.type === 'call' || event.type === 'incoming') latest.set(event.call.id, event.call);
    return [...latest.values()];
  }

  incoming(): CallSnapshot[] {
    return this.calls().filter((c) => c.direction === 'incoming');
  }

  digits(callId: string): string {
    return this.events.filter((e): e is Extract<PhoneEvent, { type: 'dtmf' }> => e.type === 'dtmf' && e.callId === callId).map((e) => e.digit).join('');
  }

  /** The raw SIP messages of one dialog the agent received. */
  messagesOf(sipCallId: string): string[] {
    return this.received.filter((e) => new RegExp(`^(Call-ID|i)\\s*:\\s*${sipCallId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'im').test(e.raw)).map((e) => e.raw);
  }
}
