import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import veilphone from './tools/eslint/import-boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'out', 'renderer/dist', 'coverage', '**/*.d.ts', '.scratch', '.cli-bundle', '.cli-bundle-*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js'],
    plugins: { veilphone },
    rules: {
      'veilphone/import-boundaries': ['error', { root: import.meta.dirname }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
);
