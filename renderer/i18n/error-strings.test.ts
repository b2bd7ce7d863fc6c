import { describe, expect, it } from 'vitest';
import { phoneErrorCodes, phoneNoticeCodes } from '../../core/api/phone-error.js';
import { translate } from './strings.js';

describe('words for every code the phone reports', () => {
  it.each(['en', 'ja'] as const)('has a title for each failure and notice code in %s', (language) => {
    // The views show `error_CODE`'s words over the message; a code without them showed the key itself.
    const missing = [...phoneErrorCodes, ...phoneNoticeCodes].filter((code) => translate(language, `error_${code}`) === `error_${code}`);
    expect(missing).toEqual([]);
  });
});
