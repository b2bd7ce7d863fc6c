import { afterEach, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { staticSdhFactory } from '../../test/support/static-sdh.js';
import { until } from '../../test/support/until.js';
import type { PhoneEvent } from '../api/phone-types.js';
import { Phone } from './phone.js';

/**
 * A display name with quotes, backslashes or line breaks (a scenario's `display`, `serve --display`, a boot file's
 * `display_name`: none goes through the settings view's check) goes out as RFC 3261 §25.1's quoted-string allows.
 * helper 74: `Bob "The Builder"` went out as `"Bob "The Builder""`; the lab answered 400, which the phone dropped, and
 * the REGISTER failed "no answer" 32 s later.
 */
describe('a display name with quotes, backslashes and a line break', () => {
  const cleanup: Array<() => Promise<unknown> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('registers, and the callee is shown the name as written, with nothing injected', async () => {
    const sent: string[] = [];
    const lab = await Lab.start({ timers: { t1: 50, t2: 400 }, tap: (e) => void (e.dir === 'in' && sent.push(e.raw)) });
    cleanup.push(() => lab.stop());
    const display = 'Bob "The Builder" \\ x\r\nX-Injected: 1';
    const phone = (user: string, displayName?: string): Phone => {
      const p = new Phone({ accounts: [{ id: user, user, server: lab.servers.udp!, transport: 'udp', domain: lab.domain, ...(displayName ? { displayName } : {}) }], createSessionDescriptionHandlerFactory: () => staticSdhFactory(), timers: { t1: 50, t2: 400 } });
      cleanup.push(() => p.shutdown());
      return p;
    };
    const bob = phone('bob', display);
    const carol = phone('carol');
    const rung: PhoneEvent[] = [];
    carol.subscribe((e) => void (e.type === 'incoming' && rung.push(e)));
    expect((await bob.register()).state).toBe('registered');
    await carol.register();
    await bob.call({ target: 'carol' });
    const incoming = await until(() => rung[0]);
    // (the shown name folds the two spaces where the line break was: shown-name.ts)
    expect(incoming).toMatchObject({ call: { remote: { display: 'Bob "The Builder" \\ x X-Injected: 1' } } });
    const invite = sent.find((raw) => raw.startsWith('INVITE sip:carol'))!;
    expect(invite).toMatch(/^From: "Bob \\"The Builder\\" \\\\ x {2}X-Injected: 1" <sip:bob@/m);
    expect(sent.some((raw) => /^X-Injected:/im.test(raw))).toBe(false);
  });
});
