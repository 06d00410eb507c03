/**
 * How a bench page hands its harness to the driver (bench/bench-page.ts `openHarness`): on
 * `window.harness` once set up, or its error on `window.harnessError`.
 */
export function publishHarness(setup: Promise<unknown>): void {
  const w = window as unknown as { harness?: unknown; harnessError?: string };
  setup.then(
    (harness) => {
      w.harness = harness;
    },
    (error: unknown) => {
      w.harnessError = String(error);
    },
  );
}
