/**
 * Finds Debian's Firefox ESR and PulseAudio for the Firefox browser tests, and installs them when
 * they are missing and we are root on a Debian-like machine (CI), as scripts/chromium.ts does for
 * Chromium. A Firefox page plays sound only with an audio device: the tests give it a private
 * PulseAudio with a null sink (tests/helpers/firefox.ts).
 */
import { existsSync } from 'node:fs';
import { ensureDebianTool, firstExisting } from './debian-package.ts';

export function findFirefox(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.FIREFOX_PATH) return existsSync(env.FIREFOX_PATH) ? env.FIREFOX_PATH : null;
  return firstExisting(['/usr/bin/firefox-esr', '/usr/lib/firefox-esr/firefox-esr']);
}

export const findPulseAudio = (): string | null => firstExisting(['/usr/bin/pulseaudio', '/bin/pulseaudio']);

export const FIREFOX_INSTALL_HINT =
  'The Firefox browser tests need Firefox ESR. On Debian: sudo apt-get install -y --no-install-recommends firefox-esr\n' +
  'or point FIREFOX_PATH at a Firefox binary that speaks WebDriver BiDi (Firefox 129+).';

export const PULSEAUDIO_INSTALL_HINT =
  'The Firefox DAW tests play sound into a private PulseAudio with a null sink (a Firefox AudioContext never runs\n' +
  'without an audio device). On Debian: sudo apt-get install -y --no-install-recommends pulseaudio';

/** Firefox's path, installing Debian's package first when we can. Throws with instructions when we cannot. */
export function ensureFirefox(): string {
  if (process.env.FIREFOX_PATH) {
    const given = findFirefox();
    if (!given) throw new Error(FIREFOX_INSTALL_HINT);
    return given;
  }
  return ensureDebianTool({
    name: 'Firefox',
    debianPackage: 'firefox-esr',
    find: () => findFirefox(),
    hint: FIREFOX_INSTALL_HINT,
    recommends: false,
  });
}

export const ensurePulseAudio = (): string =>
  ensureDebianTool({
    name: 'PulseAudio',
    debianPackage: 'pulseaudio',
    find: findPulseAudio,
    hint: PULSEAUDIO_INSTALL_HINT,
    recommends: false,
  });
