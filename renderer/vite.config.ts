import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The renderer is one static bundle: served by `veilphone serve` or loaded by Electron from disk.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'chrome120', sourcemap: true },
  logLevel: 'warn',
});
