import { PhoneError } from '../api/phone-error.js';
import { LeaseError } from '../lease/lease-error.js';
import { MgcSelector, type MgcFailure, type MgcSelectorEvent } from '../lease/mgc-selector.js';
import type { Endpoint } from '../sip/transport/endpoint.js';

export interface ServerFailoverOptions {
  /** Registrar/outbound proxy first, then the backup (seed 003: the primary and secondary soft switch). */
  servers: Endpoint[];
  /** OPTIONS keep-alives to the current server; no answer within `timeoutMs` counts as a timeout. */
  keepalive?: { intervalMs: number; timeoutMs: number };
  /** How long to stay on the backup before asking the primary again. */
  primaryRetryMs?: number;
  /** Ping the current server through the account's identity: its status, or undefined when nothing came back. */
  pingCurrent: () => Promise<number | undefined>;
  /** Ping another server (the primary, while on the backup). */
  probe: (server: Endpoint) => Promise<number | undefined>;
  /** Move the account to this server, which the current one failed over to (new identities there; none registered). */
  moveTo: (server: Endpoint) => Promise<void>;
  /**
   * Failback: put the account's identities at this server while the current ones stay where they are, until `keep`
   * (they are unregistered there: it still answers) or `undo` (the account is back on them, the new ones dropped).
   */
  tryServer: (server: Endpoint) => Promise<{ keep: () => void; undo: () => Promise<void> }>;
  /** Resolves once identities being given up have gone (a shutdown waits for it). */
  settled?: () => Promise<void>;
  /** Whether a call is up on the current server's identities: failing back would end it, so it waits. */
  inCall?: () => boolean;
  /** REGISTER the account at its current server. */
  registerCurrent: () => Promise<void>;
  /** Whether the account is meant to be registered now (keep-alives and failover only then). */
  registered: () => boolean;
  /** Whether the account's registration was lost in a way trying again can mend (registration-retry.ts lostForNow). */
  lost?: () => boolean;
  /** Whether the phone has shut down: a REGISTER that failed meanwhile is no server's failure, and nothing moves. */
  stopped?: () => boolean;
  onEvent?: (event: MgcSelectorEvent) => void;
}

/**
 * Which server an account uses (seed 003 Figs. 6A/7A: registration and call setup go to the primary soft switch and
 * move to the secondary on a timeout or transport error; back to the primary when it answers again). The policy is
 * core/lease's MgcSelector; this class drives it from REGISTER results and OPTIONS keep-alives (RFC 3261 §11).
 */
export class ServerFailover {
  readonly selector: MgcSelector;
  private timer?: NodeJS.Timeout;
  private busy = false;
  private ticking?: Promise<void>;

  constructor(private readonly options: ServerFailoverOptions) {
    this.selector = new MgcSelector({ mgc: options.servers, ...(options.primaryRetryMs !== undefined ? { primaryRetryMs: options.primaryRetryMs } : {}) });
    if (options.onEvent) this.selector.on(options.onEvent);
  }

  get current(): Endpoint {
    return this.selector.active;
  }

  /** REGISTER at the current server; on a timeout or transport error, move to the next one and REGISTER there. */
  async register(): Promise<void> {
    const attempt = this.selector.attempt();
    for (;;) {
      try {
        await this.options.registerCurrent();
        attempt.succeeded();
        return;
      } catch (error) {
        const reason = this.options.stopped?.() ? undefined : failureOf(error);
        if (reason === undefined) throw error;
        let next: Endpoint;
        try {
          next = attempt.failed(reason);
        } catch (unreachable) {
          throw unreachable instanceof LeaseError ? new PhoneError('REGISTER_FAILED', unreachable.message) : unreachable;
        }
        await this.options.moveTo(next);
      }
    }
  }

  start(): void {
    const keepalive = this.options.keepalive;
    if (!keepalive || this.timer) return;
    this.timer = setInterval(() => void this.tick(), keepalive.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Stop, and wait for a round under way: a failback waiting for the primary's answer registers the account there, and
   * an unregistration must come after it, not before (it would leave that registration behind).
   */
  async pause(): Promise<void> {
    this.stop();
    await this.ticking;
  }

  /** Stop, and wait for a round under way and for identities being given up. */
  async close(): Promise<void> {
    await this.pause();
    await this.options.settled?.();
  }

  /** One keep-alive round: is the current server there? If we are on the backup, is the primary back? */
  private tick(): Promise<void> {
    if (this.busy || !this.options.registered()) return Promise.resolve();
    this.busy = true;
    this.ticking = this.round().finally(() => {
      this.busy = false;
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /**
   * Back to the primary once it answers OPTIONS and then takes the account's REGISTER; only then are the identities on
   * the backup unregistered. A primary that answers but refuses the REGISTER leaves the account where it was.
   */
  private async failBack(): Promise<boolean> {
    let trial: Awaited<ReturnType<ServerFailoverOptions['tryServer']>>;
    try {
      trial = await this.options.tryServer(this.selector.primary);
    } catch {
      this.selector.primaryProbed(false); // ask again after another interval, not at every round
      return false;
    }
    try {
      await this.options.registerCurrent();
    } catch {
      this.selector.primaryProbed(false); // still on the backup: ask again after another interval
      // an undo that fails (an IPv4 account refused at the backup too) leaves the account unregistered, as its
      // registration state says
      await trial.undo().catch(() => undefined);
      return false;
    }
    this.selector.primaryProbed(true);
    trial.keep();
    return true;
  }

  private async round(): Promise<void> {
    try {
      if (this.selector.primaryProbeDue() && !this.options.inCall?.()) {
        const answered = (await this.options.probe(this.selector.primary).catch(noAnswer)) !== undefined;
        if (!answered) this.selector.primaryProbed(false);
        else if (await this.failBack()) return;
      }
      const status = await this.options.pingCurrent().catch(noAnswer);
      if (status !== undefined) {
        // the server answers, but the account's registration went while it did not (its restart dropped our TCP flow,
        // a refresh went unanswered): register there again
        if (this.options.lost?.() && this.options.registered()) await this.register(); // (not after an unregister meanwhile)
        return;
      }
      const attempt = this.selector.attempt();
      let next: Endpoint;
      try {
        next = attempt.failed('timeout');
      } catch {
        return; // no server answers: keep trying the current one at the next round
      }
      await this.options.moveTo(next);
      await this.register();
    } catch {
      // the move failed (its REGISTER was refused): the next round tries again
    }
  }
}

/** REGISTER outcomes that mean "this server is not there" rather than "this server says no". */
function failureOf(error: unknown): MgcFailure | undefined {
  if (!(error instanceof PhoneError)) return undefined;
  if (error.code === 'TRANSPORT_FAILED' || error.code === 'TLS_FAILED') return 'transport';
  if (error.code !== 'REGISTER_FAILED') return undefined;
  if (error.status === undefined || error.status === 408) return 'timeout';
  if (error.status === 503) return 'unavailable';
  return undefined;
}

/** A ping that cannot even be sent (no socket, no route) is a server that did not answer: seed 003 fails over on both. */
function noAnswer(): undefined {
  return undefined;
}
