// Vite turns `import url from './x.ts?worker&url'` into a separately built script and its URL (the audio worklet).
declare module '*?worker&url' {
  const url: string;
  export default url;
}
