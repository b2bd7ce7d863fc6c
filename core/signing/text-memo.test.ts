import { describe, expect, it } from 'vitest';
import { ownCopy } from '../sip/message/index.js';
import { TextMemo } from './text-memo.js';

function counted(limit: number, maxTextLength?: number): { memo: TextMemo<string>; computed: string[] } {
  const computed: string[] = [];
  const compute = (text: string): string => {
    computed.push(text);
    if (text.startsWith('!')) throw new Error(`cannot read ${text}`);
    return text.toUpperCase();
  };
  return { memo: new TextMemo(compute, ownCopy, limit, maxTextLength), computed };
}

describe('TextMemo', () => {
  it('computes a text once while it is held, and gives the same answer', () => {
    const { memo, computed } = counted(4);
    expect(memo.get('via a')).toBe('VIA A');
    expect(memo.get('via a')).toBe('VIA A');
    expect(computed).toEqual(['via a']);
  });

  it('holds at most two generations of `limit` texts, dropping the oldest generation whole', () => {
    const { memo, computed } = counted(3);
    for (let i = 0; i < 100; i++) memo.get(`t${i}`);
    expect(memo.size).toBeLessThanOrEqual(6);
    computed.length = 0;
    memo.get('t99'); // young
    memo.get('t0'); // long gone
    expect(computed).toEqual(['t0']);
  });

  it('keeps a text used again when its generation turns over', () => {
    const { memo, computed } = counted(2);
    memo.get('a');
    memo.get('b');
    memo.get('c'); // a and b are now the old generation
    memo.get('a'); // found there, moved to the young one
    memo.get('d');
    memo.get('e'); // the old generation (b) goes
    computed.length = 0;
    memo.get('a');
    memo.get('b');
    expect(computed).toEqual(['b']);
  });

  it('does not keep a text whose computation throws, nor one longer than the limit', () => {
    const { memo, computed } = counted(8, 10);
    expect(() => memo.get('!bad')).toThrow('cannot read !bad');
    expect(() => memo.get('!bad')).toThrow('cannot read !bad');
    expect(memo.get('a'.repeat(11))).toBe('A'.repeat(11));
    memo.get('a'.repeat(11));
    expect(computed).toEqual(['!bad', '!bad', 'a'.repeat(11), 'a'.repeat(11)]);
    expect(memo.size).toBe(0);
  });
});
