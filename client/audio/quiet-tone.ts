/**
 * Imported before 'tone' (engine.ts): Tone prints a banner to the console when it loads,
 * unless this global is set first. The DAW page's console stays for real problems.
 */
(globalThis as { TONE_SILENCE_LOGGING?: boolean }).TONE_SILENCE_LOGGING = true;
