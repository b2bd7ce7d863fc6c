import { useEffect, useState } from 'react';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/** The call in progress: who, state, timer, and the in-call controls. */
export function ActiveCall({ call }: { call: CallSnapshot }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
  const established = call.state === 'established';

  return (
    <section className="active-call" aria-label={t(call.state)}>
      <h2 className="party">{call.remote.anonymous ? t('anonymous') : call.remote.shown}</h2>
      <p className="call-state" role="status">
        {call.localHold ? t('onHold') : t(call.state)}
        {established && call.answeredAt !== undefined ? ` · ${formatDuration(now - call.answeredAt)}` : ''}
      </p>
      {call.localSip && (
        <p className="call-detail">
          {t('localSip')}: <code>{call.localSip}</code>
        </p>
      )}
      <div className="call-controls">
        <button type="button" disabled={!established} aria-pressed={call.muted} onClick={() => void run((api) => api.mute(call.id, !call.muted))}>
          {call.muted ? t('unmute') : t('mute')}
        </button>
        <button type="button" disabled={!established} aria-pressed={call.localHold} onClick={() => void run((api) => api.hold(call.id, !call.localHold))}>
          {call.localHold ? t('resume') : t('hold')}
        </button>
        <button type="button" className="hangup" onClick={() => void run((api) => api.hangup(call.id))}>
          {t('hangup')}
        </button>
      </div>
    </section>
  );
}
