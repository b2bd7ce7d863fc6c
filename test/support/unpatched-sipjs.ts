import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SipJsParts } from '../../core/sip/sipjs-patches.js';
// @ts-expect-error plain JavaScript module without types
import { csprngPatch } from '../../tools/postinstall/sipjs-csprng.js';
// @ts-expect-error plain JavaScript module without types
import { reinviteAckTimeoutPatch } from '../../tools/postinstall/sipjs-reinvite-ack-timeout.js';
// @ts-expect-error plain JavaScript module without types
import { reinviteAckMatchingPatch } from '../../tools/postinstall/sipjs-reinvite-ack-matching.js';
// @ts-expect-error plain JavaScript module without types
import { dialogFromPatch } from '../../tools/postinstall/sipjs-dialog-from.js';
// @ts-expect-error plain JavaScript module without types
import { ackTimeoutAfterByePatch } from '../../tools/postinstall/sipjs-ack-timeout-after-bye.js';
// @ts-expect-error plain JavaScript module without types
import { faultGuardPatch } from '../../tools/postinstall/sipjs-fault-guard.js';
// @ts-expect-error plain JavaScript module without types
import { cancelToTagPatch } from '../../tools/postinstall/sipjs-cancel-to-tag.js';
// @ts-expect-error plain JavaScript module without types
import { contactlessProvisionalPatch } from '../../tools/postinstall/sipjs-contactless-provisional.js';
// @ts-expect-error plain JavaScript module without types
import { deferredTryingPatch } from '../../tools/postinstall/sipjs-deferred-trying.js';
// @ts-expect-error plain JavaScript module without types
import { mergedRequestIndexPatch } from '../../tools/postinstall/sipjs-merged-request-index.js';
// @ts-expect-error plain JavaScript module without types
import { headerizeCachePatch } from '../../tools/postinstall/sipjs-headerize-cache.js';
// @ts-expect-error plain JavaScript module without types
import { updatePatch } from '../../tools/postinstall/sipjs-update.js';
// @ts-expect-error plain JavaScript module without types
import { inviterFromTagPatch } from '../../tools/postinstall/sipjs-inviter-from-tag.js';
// @ts-expect-error plain JavaScript module without types
import { registerAnswersPatch } from '../../tools/postinstall/sipjs-register-answers.js';
// @ts-expect-error plain JavaScript module without types
import { unusable2xxPatch } from '../../tools/postinstall/sipjs-unusable-2xx.js';

export type SipJsPatchName = 'sipjs-csprng' | 'sipjs-reinvite-ack-timeout' | 'sipjs-reinvite-ack-matching' | 'sipjs-dialog-from' | 'sipjs-ack-timeout-after-bye' | 'sipjs-fault-guard' | 'sipjs-cancel-to-tag' | 'sipjs-contactless-provisional' | 'sipjs-deferred-trying' | 'sipjs-merged-request-index' | 'sipjs-headerize-cache' | 'sipjs-update' | 'sipjs-grammar-cache' | 'sipjs-inviter-from-tag' | 'sipjs-register-answers' | 'sipjs-unusable-2xx';

interface TextPatch {
  files: { file: string; replace: [string, string][] }[];
}

const installedLib = path.dirname(createRequire(import.meta.url).resolve('sip.js'));

/** Undo one patch in a copied file: each replacement's result back to the original text (it must be there). */
function undo(file: string, pairs: Array<[string, string]>): void {
  let text = fs.readFileSync(file, 'utf8');
  for (const [original, patched] of pairs) {
    if (text.split(patched).length !== 2) throw new Error(`${file}: the patched text to undo is not there once`);
    text = text.replace(patched, () => original);
  }
  fs.writeFileSync(file, text);
}

/**
 * A copy of the installed sip.js (its lib/, in a temporary directory) with install-time patches taken out again, as
 * `npm install --ignore-scripts` would have left it: the directory of its lib/ (remove its parent when done).
 */
export function unpatchedSipJsLib(without: SipJsPatchName[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vp-unpatched-sipjs-'));
  const lib = path.join(root, 'lib');
  fs.cpSync(installedLib, lib, { recursive: true, filter: (source) => fs.statSync(source).isDirectory() || source.endsWith('.js') });
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'sip.js', type: 'module', main: './lib/index.js' }));
  for (const patch of without) {
    if (patch === 'sipjs-grammar-cache') {
      undo(path.join(lib, 'grammar/pegjs/dist/grammar.js'), [
        ['    const peg$bytecode = [', '    const peg$bytecode = peg$bytecodeCache ??= ['],
        ['', 'let peg$bytecodeCache; // decoded once (tools/postinstall/sipjs-grammar-cache.js)\n'],
      ]);
    } else {
      const definition = ({
        'sipjs-csprng': csprngPatch,
        'sipjs-reinvite-ack-timeout': reinviteAckTimeoutPatch,
        'sipjs-reinvite-ack-matching': reinviteAckMatchingPatch,
        'sipjs-dialog-from': dialogFromPatch,
        'sipjs-ack-timeout-after-bye': ackTimeoutAfterByePatch,
        'sipjs-fault-guard': faultGuardPatch,
        'sipjs-cancel-to-tag': cancelToTagPatch,
        'sipjs-contactless-provisional': contactlessProvisionalPatch,
        'sipjs-deferred-trying': deferredTryingPatch,
        'sipjs-merged-request-index': mergedRequestIndexPatch,
        'sipjs-headerize-cache': headerizeCachePatch,
        'sipjs-update': updatePatch,
        'sipjs-inviter-from-tag': inviterFromTagPatch,
        'sipjs-register-answers': registerAnswersPatch,
        'sipjs-unusable-2xx': unusable2xxPatch,
      } as Record<string, TextPatch>)[patch]!;
      for (const { file, replace } of definition.files) undo(path.join(lib, file), replace);
    }
  }
  return lib;
}

/** The parts of such a copy that sipjs-patches.ts checks. */
export async function sipJsPartsOf(lib: string): Promise<SipJsParts> {
  const load = (file: string): Promise<Record<string, unknown>> => import(pathToFileURL(path.join(lib, file)).href) as Promise<Record<string, unknown>>;
  const index = await load('index.js');
  const core = index.Core as Record<string, unknown>;
  return {
    UserAgent: index.UserAgent as SipJsParts['UserAgent'],
    UserAgentConstructor: index.UserAgent as SipJsParts['UserAgentConstructor'],
    ClientTransaction: core.ClientTransaction as SipJsParts['ClientTransaction'],
    InviteClientTransaction: core.InviteClientTransaction as SipJsParts['InviteClientTransaction'],
    SessionDialog: core.SessionDialog as SipJsParts['SessionDialog'],
    Dialog: core.Dialog as SipJsParts['Dialog'],
    Inviter: index.Inviter as SipJsParts['Inviter'],
    Invitation: index.Invitation as SipJsParts['Invitation'],
    UserAgentCore: core.UserAgentCore as SipJsParts['UserAgentCore'],
    InviteServerTransaction: core.InviteServerTransaction as SipJsParts['InviteServerTransaction'],
    InviteUserAgentClient: core.InviteUserAgentClient as SipJsParts['InviteUserAgentClient'],
    createRandomToken: (await load('core/messages/utils.js')).createRandomToken as SipJsParts['createRandomToken'],
    headerize: (await load('core/messages/utils.js')).headerize as SipJsParts['headerize'],
    UserAgentServers: (await load('core/user-agent-core/user-agent-core.js')).VeilphoneUserAgentServers as SipJsParts['UserAgentServers'],
    grammarParse: (await load('grammar/pegjs/dist/grammar.js')).parse as SipJsParts['grammarParse'],
    AllowedMethods: (await load('core/user-agent-core/allowed-methods.js')).AllowedMethods as SipJsParts['AllowedMethods'],
    Registerer: index.Registerer as SipJsParts['Registerer'],
  };
}
