import { afterEach, describe, expect, it } from 'vitest';
import { ConversionTable } from './conversion-table.js';

const entry = (callId: string, callerTag: string) => ({
  realCallId: callId,
  convertedCallId: `${callId}-converted`,
  callerTag,
  inviteSeq: 1,
  realUser: 'alice@lab',
  realFrom: '<sip:alice@lab>',
  anonymousFrom: '',
  realTo: '<sip:bob@lab>',
  convertedTo: '<sip:bob@lab>',
  steps: new Set<never>(),
});

describe('the conversion table (seed 000)', () => {
  const tables: ConversionTable[] = [];
  afterEach(() => tables.splice(0).forEach((t) => t.close()));

  it('gives a call that asks again after a 422 or a 3xx (same Call-ID and From tag) the name it had; another caller with that Call-ID gets one of its own draw', () => {
    const table = new ConversionTable({ poolSize: 100 });
    tables.push(table);
    let sameForOthers = 0;
    for (let i = 0; i < 20; i++) {
      const first = table.add(entry(`call-${i}`, 'tag-a'), true);
      table.drop(first); // refused (a 422): no dialog
      const again = table.add(entry(`call-${i}`, 'tag-a'), true);
      expect(again.anonymousUser).toBe(first.anonymousUser);
      table.drop(again);
      // a request under that Call-ID with another From tag is not the same call
      const other = table.add(entry(`call-${i}`, 'tag-b'), true);
      if (other.anonymousUser === first.anonymousUser) sameForOthers++;
      table.drop(other);
    }
    expect(sameForOthers).toBeLessThan(20);
    expect(table.pool.used).toBe(0); // every name went back
  });

  it('never takes a name back from the call that holds it now: the retry draws another, or finds the pool empty', () => {
    const table = new ConversionTable({ poolSize: 1 });
    tables.push(table);
    const first = table.add(entry('call-x', 'tag-a'), true);
    table.drop(first);
    const holder = table.add(entry('call-y', 'tag-y'), true);
    expect(holder.anonymousUser).toBe(first.anonymousUser); // the only name, lent again once free
    expect(() => table.add(entry('call-x', 'tag-a'), true)).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
    expect(holder.anonymousUser).toBe('Anonymous1');
  });
});
