import type { KeyboardEvent } from 'react';
import type { TraceMessage } from '../../core/api/call-log-types.js';
import { buildLadder, layoutLadder } from '../../core/api/ladder.js';
import { traceSignatures } from '../../core/api/signature-view.js';
import { signedHeaderSpans } from '../../core/api/signed-header-spans.js';
import { useT } from './use-t.js';

/** A mark beside an arrow: the verdicts of its decoded signatures, or that it carries signature-like parameters. */
function signatureMark(message: TraceMessage | undefined): { text: string; bad: boolean } | undefined {
  if (!message) return undefined;
  const signatures = traceSignatures(message);
  if (signatures.length > 0) {
    const bad = signatures.some((s) => s.verdict !== undefined && s.verdict !== 'valid');
    return { text: bad ? '✗ sig' : signatures.every((s) => s.verdict === 'valid') ? '✓ sig' : 'sig', bad };
  }
  return signedHeaderSpans(message.raw).length > 0 ? { text: 'sig?', bad: false } : undefined;
}

/**
 * A call's messages as a ladder (sngrep's call flow): one column per party, one arrow per message with its method or
 * status and its time offset; clicking (or Enter on) an arrow selects the message.
 */
export function LadderDiagram({ messages, localEndpoints, selected, onSelect }: { messages: TraceMessage[]; localEndpoints: ReadonlySet<string>; selected?: number; onSelect: (seq: number) => void }) {
  const t = useT();
  const layout = layoutLadder(buildLadder(messages));
  const bySeq = new Map(messages.map((m) => [m.seq, m]));
  const onKey = (event: KeyboardEvent, seq: number): void => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect(seq);
    }
  };
  return (
    <svg className="ladder" width={layout.width} height={layout.height} viewBox={`0 0 ${layout.width} ${layout.height}`} role="group" aria-label={t('ladder')}>
      <defs>
        <marker id="ladder-head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor" />
        </marker>
      </defs>
      {layout.columns.map((column) => (
        <g key={column.label} className="ladder-column">
          <text x={column.x} y={16} textAnchor="middle" className="ladder-party">
            {column.label}
          </text>
          <text x={column.x} y={32} textAnchor="middle" className="ladder-role">
            {localEndpoints.has(column.label) ? t('thisPhone') : ''}
          </text>
          <line x1={column.x} x2={column.x} y1={38} y2={layout.height} className="ladder-lifeline" />
        </g>
      ))}
      {layout.arrows.map((arrow) => {
        const mark = signatureMark(bySeq.get(arrow.seq));
        const classes = ['ladder-arrow', arrow.dir, arrow.retransmission ? 'retransmission' : '', arrow.refused !== undefined ? 'refused' : '', selected === arrow.seq ? 'selected' : ''].filter(Boolean).join(' ');
        const refused = arrow.refused !== undefined ? ` (${t('refused')}: ${arrow.refused})` : '';
        return (
          <g
            key={arrow.seq}
            className={classes}
            role="button"
            tabIndex={0}
            aria-pressed={selected === arrow.seq}
            aria-label={`#${arrow.seq} ${arrow.label} ${arrow.offsetLabel}${arrow.retransmission ? ` (${t('retransmission')})` : ''}${refused}`}
            data-seq={arrow.seq}
            onClick={() => onSelect(arrow.seq)}
            onKeyDown={(event) => onKey(event, arrow.seq)}
          >
            <rect x={Math.min(arrow.x1, arrow.x2)} y={arrow.y - 20} width={Math.max(Math.abs(arrow.x2 - arrow.x1), 12)} height={26} className="ladder-hit" />
            <text x={4} y={arrow.y + 4} className="ladder-offset">
              {arrow.offsetLabel}
            </text>
            <line x1={arrow.x1} x2={arrow.x2} y1={arrow.y} y2={arrow.y} markerEnd="url(#ladder-head)" />
            <text x={arrow.labelX} y={arrow.y - 6} textAnchor="middle" className="ladder-label">
              {arrow.label}
              {arrow.retransmission ? ` (${t('retransmission')})` : ''}
              {arrow.refused !== undefined ? ` (${t('refused')})` : ''}
            </text>
            {mark && (
              <text x={Math.max(arrow.x1, arrow.x2) + 6} y={arrow.y + 4} className={`ladder-sig${mark.bad ? ' bad' : ''}`}>
                {mark.text}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
