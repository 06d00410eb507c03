/**
 * Stands in for the `debug` package in the browser bundle (vite.config.ts aliases it):
 * simple-peer's debug logging costs bytes on every phone and is never switched on there.
 */
type Logger = ((...args: unknown[]) => void) & { enabled: boolean };

export default function debug(_namespace: string): Logger {
  return Object.assign(() => {}, { enabled: false });
}
