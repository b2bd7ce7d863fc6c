// The import boundaries of ARCHITECTURE.md ("Folders" table), as data.
// Each layer lists the layers it may import, whether it may use Node built-ins, and which npm packages.

/** Lower core layers: may use each other, never core/phone or core/scenario (which compose them). */
const coreLower = [
  'core/api', 'core/sip', 'core/sip/message', 'core/media', 'core/privacy', 'core/address', 'core/lease',
  'core/household', 'core/signing', 'core/calllog', 'core/files',
];

/** @type {Record<string, { layers: string[]; node: boolean | string[]; packages: string[] }>} */
export const layers = {
  'core/api': { layers: ['core/api'], node: false, packages: [] },
  // The SIP message codec is pure so that privacy and signing can use it.
  'core/sip/message': { layers: ['core/api', 'core/sip/message'], node: false, packages: [] },
  'core/privacy': { layers: ['core/api', 'core/sip/message', 'core/privacy'], node: false, packages: [] },
  'core/signing': { layers: ['core/api', 'core/sip/message', 'core/signing'], node: ['crypto'], packages: [] },
  'core/household': { layers: ['core/api', 'core/sip/message', 'core/household'], node: true, packages: [] },
  'core/sip': { layers: coreLower, node: true, packages: ['sip.js', 'ws'] },
  // core/media implements sip.js's SessionDescriptionHandler interface (types only).
  'core/media': { layers: ['core/api', 'core/media', 'core/sip/message'], node: true, packages: ['sip.js'] },
  // Files only their owner may read (issue 17): every layer that writes to the data dir creates them through it.
  'core/files': { layers: ['core/files'], node: ['fs', 'path'], packages: [] },
  'core/address': { layers: ['core/api', 'core/address', 'core/files'], node: true, packages: [] },
  'core/lease': { layers: ['core/api', 'core/lease', 'core/files'], node: true, packages: ['zod'] },
  'core/calllog': { layers: [...coreLower], node: true, packages: ['better-sqlite3', 'ical.js'] },
  'core/phone': { layers: [...coreLower, 'core/phone'], node: true, packages: ['sip.js', 'zod'] },
  'core/scenario': { layers: [...coreLower, 'core/phone', 'core/scenario'], node: true, packages: ['yaml', 'zod'] },
  lab: { layers: [...coreLower, 'lab'], node: true, packages: ['ws'] },
  // vite and esbuild only build the UI and the desktop bundle when a checkout has no build yet.
  cli: { layers: [...coreLower, 'core/phone', 'core/scenario', 'lab', 'cli'], node: true, packages: ['commander', 'ws', 'vite', 'esbuild'] },
  electron: { layers: [...coreLower, 'core/phone', 'electron'], node: true, packages: ['electron'] },
  renderer: { layers: ['core/api', 'renderer'], node: false, packages: ['react', 'react-dom', 'zustand'] },
};

/** Folders outside the product (tests, benchmarks, tools) may import anything. */
export const unrestricted = ['test', 'e2e', 'bench', 'tools', 'bin', 'deploy'];

/**
 * The layer of a path relative to the project root, or undefined when the path is unrestricted.
 * @param {string} rel
 */
export function layerOf(rel) {
  const parts = rel.split('/');
  if (parts[0] === 'core') {
    if (parts[1] === 'sip' && parts[2] === 'message') return 'core/sip/message';
    return parts.length > 2 ? `core/${parts[1]}` : undefined;
  }
  return parts[0] !== undefined && parts[0] in layers ? parts[0] : undefined;
}
