import { describe, expect, it } from 'vitest';
import { matchDialRules as fromPrivacy } from '../privacy/dial-plan.js';
import { defaultDialRules, matchDialRules } from './dial-rules.js';

describe('dial rules in core/api (the dialer hints and core/privacy share them)', () => {
  it('is the same function core/privacy uses', () => {
    expect(fromPrivacy).toBe(matchDialRules);
    expect(defaultDialRules.map((r) => r.prefix)).toEqual(['184', '186']);
  });
  it('says what a dial string will do as the user types it', () => {
    expect(matchDialRules('18').rule).toBeUndefined();
    expect(matchDialRules('184').rule).toBeUndefined();
    expect(matchDialRules('1840').rule?.action).toBe('withhold');
    expect(matchDialRules('186 03-1234-5678')).toMatchObject({ rest: '0312345678', rule: { action: 'present' } });
    expect(matchDialRules('sip:184bob@lab.example')).toMatchObject({ rest: 'sip:bob@lab.example', rule: { action: 'withhold' } });
  });
});
