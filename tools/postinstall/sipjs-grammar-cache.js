// sip.js 0.21's generated SIP grammar (pegjs, bytecode mode) declares its bytecode table inside peg$parse, so every
// header it parses first decodes ~235 rule programs from strings: measured here as three quarters of all CPU time of
// call setup. The table is pure data (numbers), so it is decoded once and kept. The action closures in peg$consts
// capture per-parse state and are left alone. Runs on `npm install`; fails loudly if sip.js changed shape.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const marker = 'peg$bytecodeCache';
const require = createRequire(import.meta.url);

export function grammarFile() {
  const main = require.resolve('sip.js');
  return path.join(path.dirname(main), 'grammar/pegjs/dist/grammar.js');
}

export function patchGrammar(text) {
  if (text.includes(marker)) return text;
  const declaration = '    const peg$bytecode = [';
  if (text.split(declaration).length !== 2) throw new Error('sip.js grammar: expected exactly one bytecode table inside peg$parse');
  const patched = text.replace(declaration, `    const peg$bytecode = ${marker} ??= [`);
  const anchor = 'function peg$parse(input, options) {';
  if (!patched.includes(anchor)) throw new Error('sip.js grammar: peg$parse not found');
  return patched.replace(anchor, `let ${marker}; // decoded once (tools/postinstall/sipjs-grammar-cache.js)\n${anchor}`);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const file = grammarFile();
  const before = fs.readFileSync(file, 'utf8');
  const after = patchGrammar(before);
  if (after !== before) {
    fs.writeFileSync(file, after);
    console.log(`veilphone: sip.js grammar decodes its bytecode once (${path.relative(process.cwd(), file)})`);
  }
}
