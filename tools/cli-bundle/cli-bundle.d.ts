// Types of cli-bundle.js (plain JavaScript: it runs on `npm install` and from bin/veilphone.js, before any loader).
export declare const projectRoot: string;
export declare function freshBundle(root?: string, dir?: string): string | undefined;
export declare function buildCliBundle(root?: string, outDir?: string): Promise<{ entry: string; inputs: number }>;
