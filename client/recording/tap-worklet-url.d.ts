// The output tap's processor, built by Vite as a self-contained worker bundle; its URL (vite/client
// declares `*?worker&url` for the client's tsconfig; this covers the root one too).
declare module '*/tap-worklet.ts?worker&url' {
  const url: string;
  export default url;
}
