import type { AnswerMode, CallSnapshot, PhoneEvent } from '../../core/api/phone-types.js';
import { defaultMediaProvider } from '../../core/phone/default-media.js';
import { Phone } from '../../core/phone/phone.js';
import { Baresip } from './baresip.js';
import { KamailioServer } from './kamailio.js';

/**
 * Kamailio (deploy/kamailio) with two users registered over UDP: `carol`, an unmodified baresip answering in its
 * `answermode`, and `bob`, a Veilphone phone whose events are kept. What the baresip interop files share.
 */
export class BaresipThroughKamailio {
  readonly events: PhoneEvent[] = [];

  private constructor(
    readonly kamailio: KamailioServer,
    readonly carol: Baresip,
    readonly bob: Phone,
  ) {
    bob.subscribe((e) => this.events.push(e));
  }

  static async start(options: { answermode: 'auto' | 'early' | 'manual'; phoneAnswer?: AnswerMode }): Promise<BaresipThroughKamailio> {
    const kamailio = await KamailioServer.start();
    let carol: Baresip | undefined;
    let bob: Phone | undefined;
    try {
      const registrar = `127.0.0.1:${kamailio.port}`;
      carol = await Baresip.start(() => `<sip:carol@${registrar};transport=udp>;regint=60;answermode=${options.answermode};outbound="sip:${registrar};transport=udp"`);
      await carol.registered();
      bob = new Phone({
        accounts: [{ id: 'bob', user: 'bob', server: kamailio.servers.udp, transport: 'udp', ...(options.phoneAnswer ? { answer: options.phoneAnswer } : {}) }],
        createSessionDescriptionHandlerFactory: defaultMediaProvider,
      });
      const pair = new BaresipThroughKamailio(kamailio, carol, bob);
      await bob.register();
      return pair;
    } catch (error) {
      await bob?.shutdown();
      await carol?.stop();
      await kamailio.stop();
      throw error;
    }
  }

  /** Every view of one of the phone's calls, in order. */
  snapshots(id: string): CallSnapshot[] {
    return this.events.flatMap((e) => (e.type === 'call' && e.call.id === id ? [e.call] : []));
  }

  async stop(): Promise<void> {
    await this.bob.shutdown();
    await this.carol.stop();
    await this.kamailio.stop();
  }
}
