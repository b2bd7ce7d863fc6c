import path from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import plugin from './import-boundaries.js';

const root = path.resolve(import.meta.dirname, '../..');

function lint(file: string, code: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(
    code,
    [
      {
        files: ['**/*.ts', '**/*.tsx'],
        languageOptions: { parser: tseslint.parser as Linter.Parser },
        plugins: { veilphone: plugin },
        rules: { 'veilphone/import-boundaries': ['error', { root }] },
      },
    ],
    path.join(root, file),
  );
  return messages.map((m) => m.message);
}

describe('import-boundaries (ARCHITECTURE.md folder rules)', () => {
  it('lets the renderer import core/api, react and zustand only', () => {
    expect(lint('renderer/app.tsx', "import type { PhoneApi } from '../core/api/phone-api.js';")).toEqual([]);
    expect(lint('renderer/app.tsx', "import { create } from 'zustand';")).toEqual([]);
    expect(lint('renderer/app.tsx', "import { Phone } from '../core/phone/phone.js';")).toEqual([
      'renderer may not import core/phone (ARCHITECTURE.md folder rules)',
    ]);
    expect(lint('renderer/app.tsx', "import fs from 'node:fs';")).toHaveLength(1);
    expect(lint('renderer/app.tsx', "import { UserAgent } from 'sip.js';")).toHaveLength(1);
  });

  it('keeps core/api free of Node and of every other layer', () => {
    expect(lint('core/api/phone-api.ts', "import fs from 'fs';")).toHaveLength(1);
    expect(lint('core/api/phone-api.ts', "export * from '../sip/sip-identity.js';")).toHaveLength(1);
  });

  it('never lets core import lab, cli or electron', () => {
    expect(lint('core/sip/x.ts', "import { Lab } from '../../lab/lab.js';")).toHaveLength(1);
    expect(lint('core/phone/x.ts', "import '../../cli/main.js';")).toHaveLength(1);
  });

  it('lets core/signing use node:crypto but nothing else from Node', () => {
    expect(lint('core/signing/x.ts', "import { createHmac } from 'node:crypto';")).toEqual([]);
    expect(lint('core/signing/x.ts', "import fs from 'node:fs';")).toHaveLength(1);
  });

  it('lets lab use core codecs but not core/phone', () => {
    expect(lint('lab/proxy.ts', "import { parseSipMessage } from '../core/sip/message/index.js';")).toEqual([]);
    expect(lint('lab/proxy.ts', "import { Phone } from '../core/phone/phone.js';")).toHaveLength(1);
  });
});
