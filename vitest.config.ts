import { defineConfig } from 'vitest/config';

/** Unit and slow tests live beside the code; a `*.slow.test.ts` is a long property test or one that starts processes. */
const besideTheCode = ['core', 'lab', 'cli', 'electron', 'renderer', 'tools', 'bench'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: [...besideTheCode.map((dir) => `${dir}/**/*.test.ts`), 'renderer/**/*.test.tsx'],
          exclude: ['**/*.slow.test.ts', '**/node_modules/**'],
          testTimeout: 20_000,
        },
      },
      {
        // `npm test` and CI run it with the rest; `npm run test:unit` leaves it out.
        test: {
          name: 'slow',
          include: besideTheCode.map((dir) => `${dir}/**/*.slow.test.ts`),
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
