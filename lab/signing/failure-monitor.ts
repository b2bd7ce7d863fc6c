import type { SignatureKind, SignatureVerdict } from '../../core/api/signature-types.js';
import type { KeyClass } from '../../core/signing/signature-param.js';

/** One message the proxy dropped because a signature did not hold. */
export interface SignatureFailure {
  at: number;
  family: KeyClass;
  kind?: SignatureKind;
  verdict: SignatureVerdict;
  note?: string;
  /** Start line and Call-ID of the dropped message. */
  message: string;
  /** The link it came from, `transport:address:port`. */
  from: string;
}

/** Raised when failures in the last second exceed the threshold (seed 002 ¶[0026]). */
export interface SignatureAlert {
  at: number;
  perSecond: number;
  threshold: number;
  /** The failure that crossed the threshold. */
  last: SignatureFailure;
}

export interface FailureMonitorSnapshot {
  total: number;
  byFamily: Record<KeyClass, number>;
  byVerdict: Partial<Record<SignatureVerdict, number>>;
  /** Failures in the last second. */
  perSecond: number;
  peakPerSecond: number;
  threshold: number;
  /** True while the rate stays above the threshold. */
  alerting: boolean;
  alerts: SignatureAlert[];
  recent: SignatureFailure[];
}

export interface FailureMonitorOptions {
  /** Failures per second that raise an alert; ¶[0026] names 6, 10 or 25. Default 10. */
  threshold?: number;
  now?: () => number;
}

const windowMs = 1000;
const keep = 20;

/**
 * The signature failure performance counter of ¶[0026]: every rejected message is counted, the failures of the
 * last second are compared with a threshold, and crossing it raises an alert (once, until the rate falls back) for
 * the administrator — here an event and the lab's snapshot.
 */
export class FailureMonitor {
  readonly threshold: number;
  private readonly now: () => number;
  private readonly window: number[] = [];
  private readonly listeners = new Set<(alert: SignatureAlert) => void>();
  private readonly state: Omit<FailureMonitorSnapshot, 'perSecond' | 'threshold' | 'alerting'> = {
    total: 0,
    byFamily: { via: 0, 'record-route': 0, 'route-set': 0 },
    byVerdict: {},
    peakPerSecond: 0,
    alerts: [],
    recent: [],
  };
  private alerting = false;

  constructor(options: FailureMonitorOptions = {}) {
    this.threshold = options.threshold ?? 10;
    if (!(this.threshold >= 0)) throw new RangeError('the failure threshold must be a number of failures per second');
    this.now = options.now ?? Date.now;
  }

  onAlert(listener: (alert: SignatureAlert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(failure: SignatureFailure): void {
    const s = this.state;
    s.total++;
    s.byFamily[failure.family]++;
    s.byVerdict[failure.verdict] = (s.byVerdict[failure.verdict] ?? 0) + 1;
    s.recent.push(failure);
    if (s.recent.length > keep) s.recent.shift();
    this.window.push(failure.at);
    const perSecond = this.rate(failure.at);
    s.peakPerSecond = Math.max(s.peakPerSecond, perSecond);
    if (perSecond > this.threshold && !this.alerting) {
      this.alerting = true;
      const alert: SignatureAlert = { at: failure.at, perSecond, threshold: this.threshold, last: failure };
      s.alerts.push(alert);
      if (s.alerts.length > keep) s.alerts.shift();
      for (const listener of this.listeners) {
        try {
          listener(alert);
        } catch {
          // an alert sink that fails must not stop the proxy
        }
      }
    }
  }

  /** Failures in the second before `at`. */
  rate(at = this.now()): number {
    while (this.window.length > 0 && this.window[0]! <= at - windowMs) this.window.shift();
    const perSecond = this.window.length;
    if (perSecond <= this.threshold) this.alerting = false;
    return perSecond;
  }

  snapshot(): FailureMonitorSnapshot {
    const perSecond = this.rate();
    return {
      ...this.state,
      byFamily: { ...this.state.byFamily },
      byVerdict: { ...this.state.byVerdict },
      alerts: [...this.state.alerts],
      recent: [...this.state.recent],
      perSecond,
      threshold: this.threshold,
      alerting: this.alerting,
    };
  }
}
