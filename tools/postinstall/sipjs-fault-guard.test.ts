import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { guardTimer, setTimerFaultHandler } from 'sip.js/lib/veilphone-fault-guard.js';
// @ts-expect-error plain JavaScript module without types
import { libDirectory } from './sipjs-patch.js';

/** Every JavaScript file under a folder of the installed sip.js. */
function sources(folder: string): string[] {
  const root = path.join(libDirectory() as string, folder);
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.js')).map((f) => path.join(root, f));
}

describe('the sip.js timer guard (tools/postinstall/sipjs-fault-guard.js)', () => {
  afterEach(() => setTimerFaultHandler(undefined));

  it('leaves no timer of sip.js api/ and core/ unguarded', () => {
    const unguarded: string[] = [];
    for (const file of [...sources('api'), ...sources('core')]) {
      const text = fs.readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\b(?:setTimeout|setInterval)\(([^,]*)/g)) {
        // session-dialog.js arms its 2xx retransmissions with `retransmission`, which the patch made the guarded one
        // guardTimer(OWNER: the object the timer is for, `this` or, for the deferred 100 Trying, the INVITE's transaction
        if (match[1]!.startsWith('guardTimer(') || (file.endsWith('session-dialog.js') && match[1] === 'retransmission')) continue;
        unguarded.push(`${path.relative(libDirectory() as string, file)}: ${match[0]}`);
      }
      if (file.endsWith('session-dialog.js')) expect(text.match(/const retransmission = guardTimer\(this, /g)).toHaveLength(2);
    }
    expect(unguarded).toEqual([]);
  });

  it('hands a throw to the installed handler with the object that set the timer; without one it rethrows, as sip.js did', () => {
    const owner = { callId: 'c1' };
    const timer = guardTimer(owner, () => {
      throw new Error('inside sip.js');
    });
    expect(() => timer()).toThrow('inside sip.js');
    const seen: Array<[unknown, unknown]> = [];
    setTimerFaultHandler((error, who) => seen.push([error, who]));
    expect(timer()).toBeUndefined();
    expect(seen).toEqual([[new Error('inside sip.js'), owner]]);
    expect(guardTimer(owner, (a: number) => a + 1)(1)).toBe(2);
  });
});
