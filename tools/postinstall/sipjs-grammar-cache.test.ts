import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Grammar } from 'sip.js';
// @ts-expect-error plain JavaScript module without types
import { grammarFile, patchGrammar } from './sipjs-grammar-cache.js';

describe('the sip.js grammar patch (npm postinstall)', () => {
  it('is applied to the installed sip.js, which still parses SIP', () => {
    expect(fs.readFileSync(grammarFile(), 'utf8')).toContain('peg$bytecode = peg$bytecodeCache ??= [');
    const uri = Grammar.URIParse('sip:alice@example.com:5070;transport=tcp');
    expect(uri?.user).toBe('alice');
    expect(uri?.port).toBe(5070);
    expect(Grammar.nameAddrHeaderParse('"Bob" <sip:bob@example.com>;tag=x')?.displayName).toBe('Bob');
  });

  it('hoists only the bytecode table, once, and refuses a grammar it does not recognise', () => {
    const fake = 'function peg$parse(input, options) {\n    const peg$bytecode = [\n      peg$decode("!")\n    ];\n}';
    const patched = patchGrammar(fake) as string;
    expect(patched).toContain('let peg$bytecodeCache;');
    expect(patched).toContain('const peg$bytecode = peg$bytecodeCache ??= [');
    expect(patchGrammar(patched)).toBe(patched);
    expect(() => patchGrammar('function peg$parse(input, options) {}')).toThrow(/exactly one bytecode table/);
  });
});
