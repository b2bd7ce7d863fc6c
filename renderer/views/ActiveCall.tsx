import { useEffect, useState } from 'react';
import { callEncryption } from '../../core/api/call-encryption.js';
import type { CallSnapshot } from '../../core/api/phone-types.js';
import { useAudio } from '../store/audio-store.js';
import { sendDtmfDigit, useDtmf } from '../store/dtmf-store.js';
import { usePhone } from '../store/phone-store.js';
import { CallLock } from './CallLock.js';
import { useT } from './use-t.js';

const dtmfKeys = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/** A level meter (0-1 of full scale) shown on a dB-like scale, so speech moves it visibly. */
function LevelMeter({ label, value, kind }: { label: string; value: number; kind: 'input' | 'output' }) {
  const scaled = value <= 0 ? 0 : Math.max(0, Math.min(1, 1 + Math.log10(value) / 3)); // -60 dBFS → 0, 0 dBFS → 1
  return (
    <label className={`level level-${kind}`}>
      <span>{label}</span>
      <meter min={0} max={1} low={0.25} high={0.9} optimum={0.5} value={scaled} aria-label={label} data-level={value.toFixed(4)} />
    </label>
  );
}

/** The call in progress: who, state, timer, the in-call controls, the DTMF pad, audio levels and where it runs. */
export function ActiveCall({ call }: { call: CallSnapshot }) {
  const t = useT();
  const run = usePhone((s) => s.run);
  const audio = useAudio();
  const [now, setNow] = useState(Date.now());
  const [keypad, setKeypad] = useState(false);
  const sent = useDtmf((s) => s.sent[call.id] ?? '');
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
  const established = call.state === 'established';
  const dtmf = (digit: string): void => void run((api) => sendDtmfDigit(api, call.id, digit));

  return (
    <section className="active-call" aria-label={t('activeCall')}>
      <h2 className="party">
        <bdi>{call.remote.anonymous ? t('anonymous') : call.remote.shown}</bdi>
      </h2>
      <p className="call-state" role="status">
        {call.localHold ? t('onHold') : t(call.state)}
        {established && call.answeredAt !== undefined ? ` · ${formatDuration(now - call.answeredAt)}` : ''}
      </p>
      <CallLock encryption={callEncryption(call)} live={call.state !== 'terminated'} />
      {call.remoteHold && <p className="call-detail remote-hold">{t('remoteHold')}</p>}
      {call.direction === 'outgoing' && call.anonymity !== undefined && call.anonymity !== 'none' && (
        <p className="call-detail anonymity-sent">{t(call.anonymity === 'prefix' ? 'sentAnonymousPrefix' : 'sentAnonymousHeader')}</p>
      )}
      <div className="call-controls">
        <button type="button" disabled={!established} aria-pressed={call.muted} onClick={() => void run((api) => api.mute(call.id, !call.muted))}>
          {call.muted ? t('unmute') : t('mute')}
        </button>
        <button type="button" disabled={!established} aria-pressed={call.localHold} onClick={() => void run((api) => api.hold(call.id, !call.localHold))}>
          {call.localHold ? t('resume') : t('hold')}
        </button>
        <button type="button" disabled={!established} aria-expanded={keypad} aria-controls="dtmf-pad" onClick={() => setKeypad(!keypad)}>
          {t('dtmfPad')}
        </button>
        <button type="button" className="hangup" onClick={() => void run((api) => api.hangup(call.id))}>
          {t('hangup')}
        </button>
      </div>
      {keypad && established && (
        <div id="dtmf-pad" className="keypad dtmf" role="group" aria-label={t('dtmfPad')}>
          <output className="dtmf-sent" aria-label={t('dtmfSent')}>
            {sent}
          </output>
          {dtmfKeys.map((key) => (
            <button key={key} type="button" aria-label={`${t('dtmfKey')} ${key}`} onClick={() => dtmf(key)}>
              {key}
            </button>
          ))}
        </div>
      )}
      {established && (
        <div className="levels" aria-label={t('audio')}>
          <LevelMeter label={t('micLevel')} value={audio.inputLevel} kind="input" />
          <LevelMeter label={t('speakerLevel')} value={audio.outputLevel} kind="output" />
          {audio.status !== 'running' && audio.status !== 'idle' && (
            <p className="call-detail audio-status">
              {t(`audio_${audio.status}`)}
              {audio.problem ? ` (${audio.problem})` : ''}
            </p>
          )}
        </div>
      )}
      <dl className="call-where">
        {call.localAddress !== undefined && (
          <>
            <dt>{t('localAddress')}</dt>
            <dd>
              <code>{call.localAddress}</code>
            </dd>
          </>
        )}
        {call.localSip !== undefined && (
          <>
            <dt>{t('localSip')}</dt>
            <dd>
              <code>{call.localSip}</code>
            </dd>
          </>
        )}
        {call.media && (
          <>
            <dt>{t('localRtp')}</dt>
            <dd>
              <code>{call.media.localRtp}</code>
              {call.media.codec ? ` · ${call.media.codec}` : ''}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
