// Exact-text patches of the installed sip.js (lib/), applied on `npm install`. Each replaced text must occur exactly
// once, so a sip.js that changed shape fails the install loudly instead of running unpatched.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export function libDirectory() {
  return path.dirname(require.resolve('sip.js'));
}

/** The file's text with every replacement made; unchanged when it already carries the marker. */
export function patchText(file, text, replacements, marker) {
  if (text.includes(marker)) return text;
  let out = text;
  for (const [from, to] of replacements) {
    if (out.split(from).length !== 2) throw new Error(`sip.js ${file}: expected exactly one ${JSON.stringify(from.trim().split('\n')[0])}`);
    out = out.replace(from, () => to);
  }
  if (!out.includes(marker)) throw new Error(`sip.js ${file}: the patch does not carry its marker ${JSON.stringify(marker)}`);
  return out;
}

/** Patch every file of `patch.files` in the installed sip.js; `patch.what` says what it does. */
export function applyPatch(patch) {
  for (const { file, replace } of patch.files) {
    const full = path.join(libDirectory(), file);
    const before = fs.readFileSync(full, 'utf8');
    const after = patchText(file, before, replace, patch.marker);
    if (after !== before) {
      fs.writeFileSync(full, after);
      console.log(`veilphone: ${patch.what} (${path.relative(process.cwd(), full)})`);
    }
  }
}

/** Whether this module is the script node was started with. */
export function isMain(moduleUrl) {
  return Boolean(process.argv[1]) && moduleUrl.endsWith(path.basename(process.argv[1]));
}
