import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshBundle } from './cli-bundle.js';

describe('bin/veilphone.js runs the compiled bundle only while it is fresh (tools/cli-bundle/cli-bundle.js)', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
  });

  /** A checkout with two sources and a bundle built from them after their last change. */
  function checkout(): { root: string; entry: string; touch(file: string, secondsFromNow: number): void } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-cli-bundle-'));
    roots.push(root);
    const touch = (file: string, secondsFromNow: number) => {
      const at = new Date(Date.now() + secondsFromNow * 1000);
      fs.utimesSync(path.join(root, file), at, at);
    };
    fs.mkdirSync(path.join(root, 'cli'));
    fs.mkdirSync(path.join(root, 'core'));
    fs.writeFileSync(path.join(root, 'cli/main.ts'), '');
    fs.writeFileSync(path.join(root, 'core/phone.ts'), '');
    fs.mkdirSync(path.join(root, '.cli-bundle'));
    fs.writeFileSync(path.join(root, '.cli-bundle/main.mjs'), '');
    fs.writeFileSync(path.join(root, '.cli-bundle/inputs.json'), JSON.stringify(['cli/main.ts', 'core/phone.ts']));
    touch('cli/main.ts', -60);
    touch('core/phone.ts', -60);
    touch('.cli-bundle/inputs.json', -30);
    return { root, entry: path.join(root, '.cli-bundle/main.mjs'), touch };
  }

  it('is fresh when every input is older than the inputs list', () => {
    const { root, entry } = checkout();
    expect(freshBundle(root)).toBe(entry);
  });

  it('is stale once any input changed after the build, so an edited checkout runs its sources', () => {
    const { root, touch } = checkout();
    touch('core/phone.ts', 0);
    expect(freshBundle(root)).toBeUndefined();
  });

  it('is stale when an input is gone, the list is missing, empty or not a list', () => {
    const gone = checkout();
    fs.rmSync(path.join(gone.root, 'core/phone.ts'));
    expect(freshBundle(gone.root)).toBeUndefined();
    for (const list of [undefined, '[]', '{"a":1}', 'not json']) {
      const { root } = checkout();
      if (list === undefined) fs.rmSync(path.join(root, '.cli-bundle/inputs.json'));
      else fs.writeFileSync(path.join(root, '.cli-bundle/inputs.json'), list);
      expect(freshBundle(root)).toBeUndefined();
    }
  });
});
