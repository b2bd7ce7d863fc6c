import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module without types
import { csprngPatch } from './sipjs-csprng.js';
// @ts-expect-error plain JavaScript module without types
import { reinviteAckTimeoutPatch } from './sipjs-reinvite-ack-timeout.js';
// @ts-expect-error plain JavaScript module without types
import { reinviteAckMatchingPatch } from './sipjs-reinvite-ack-matching.js';
// @ts-expect-error plain JavaScript module without types
import { dialogFromPatch } from './sipjs-dialog-from.js';
// @ts-expect-error plain JavaScript module without types
import { ackTimeoutAfterByePatch } from './sipjs-ack-timeout-after-bye.js';
// @ts-expect-error plain JavaScript module without types
import { faultGuardPatch } from './sipjs-fault-guard.js';
// @ts-expect-error plain JavaScript module without types
import { cancelToTagPatch } from './sipjs-cancel-to-tag.js';
// @ts-expect-error plain JavaScript module without types
import { contactlessProvisionalPatch } from './sipjs-contactless-provisional.js';
// @ts-expect-error plain JavaScript module without types
import { deferredTryingPatch } from './sipjs-deferred-trying.js';
// @ts-expect-error plain JavaScript module without types
import { mergedRequestIndexPatch } from './sipjs-merged-request-index.js';
// @ts-expect-error plain JavaScript module without types
import { headerizeCachePatch } from './sipjs-headerize-cache.js';
// @ts-expect-error plain JavaScript module without types
import { updatePatch } from './sipjs-update.js';
// @ts-expect-error plain JavaScript module without types
import { inviterFromTagPatch } from './sipjs-inviter-from-tag.js';
// @ts-expect-error plain JavaScript module without types
import { registerAnswersPatch } from './sipjs-register-answers.js';
// @ts-expect-error plain JavaScript module without types
import { unusable2xxPatch } from './sipjs-unusable-2xx.js';
// @ts-expect-error plain JavaScript module without types
import { libDirectory, patchText } from './sipjs-patch.js';

interface SipjsPatch {
  marker: string;
  files: { file: string; replace: [string, string][] }[];
}
const patches = [csprngPatch, reinviteAckTimeoutPatch, reinviteAckMatchingPatch, dialogFromPatch, ackTimeoutAfterByePatch, faultGuardPatch, cancelToTagPatch, contactlessProvisionalPatch, deferredTryingPatch, mergedRequestIndexPatch, headerizeCachePatch, updatePatch, inviterFromTagPatch, registerAnswersPatch, unusable2xxPatch] as SipjsPatch[];

describe('the sip.js patches (npm postinstall)', () => {
  it('are applied to every file of the installed sip.js they name', () => {
    for (const patch of patches) {
      for (const { file } of patch.files) expect(fs.readFileSync(path.join(libDirectory() as string, file), 'utf8'), file).toContain(patch.marker);
    }
  });

  it('replace each text once, are idempotent, and refuse a sip.js they do not recognise', () => {
    const patch = patches[0]!;
    const utils = patch.files[0]!;
    const original = `export function createRandomToken(size, base = 32) {\n${utils.replace[0]![0]}\n}`;
    const patched = patchText(utils.file, original, utils.replace, patch.marker) as string;
    expect(patched).toContain('globalThis.crypto.getRandomValues');
    expect(patched).not.toContain('Math.random');
    expect(patchText(utils.file, patched, utils.replace, patch.marker)).toBe(patched);
    expect(() => patchText(utils.file, 'export function createRandomToken() {}', utils.replace, patch.marker)).toThrow(/expected exactly one/);
    expect(() => patchText('x.js', 'a', [['a', 'b']], patch.marker)).toThrow(/does not carry its marker/);
  });
});
