import { describe, expect, it } from 'vitest';
import type { AccountConfig } from '../../core/api/phone-types.js';
import { configOf, formOf } from './call-rules-form.js';

const account: AccountConfig = { id: 'alice', user: 'alice', server: 'sip:127.0.0.1:5060', transport: 'udp' };

describe('call rules form: forwarding, by 302 or by the phone placing the call', () => {
  it('keeps "by: call" only when chosen, and reads it back', () => {
    const form = { ...formOf(account), forward: 'busy' as const, forwardTo: 'carol' };
    expect(configOf(account, form).forward).toEqual({ when: 'busy', to: 'carol' });
    const byCall = configOf(account, { ...form, forwardBy: 'call' });
    expect(byCall.forward).toEqual({ when: 'busy', to: 'carol', by: 'call' });
    expect(formOf(byCall).forwardBy).toBe('call');
    expect(formOf(account).forwardBy).toBe('redirect');
  });
});
