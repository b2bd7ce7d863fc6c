/**
 * `npm run dist`, first half: the UI into renderer/dist and electron/ into out/electron, the two things
 * electron-builder.yml packages (with assets/). electron-builder then makes the Linux AppImage and deb.
 */
import { bundleDesktop } from './desktop-launch.js';
import { ensureRendererBundle } from './renderer-bundle.js';

const renderer = await ensureRendererBundle((line) => console.log(line));
const { main, preload } = await bundleDesktop();
console.log(`desktop app ready to package: ${renderer}, ${main}, ${preload}`);
