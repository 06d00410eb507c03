/**
 * A Vite plugin: bundles one small script on its own (client/src/early-join.ts: a returning
 * player's socket and join), minified and lowered for the phones' floor like the app, and inlines it
 * into index.html as a classic script. It then runs while the HTML is parsed, before the app's module
 * has even been fetched. The server's Content-Security-Policy allows it by its hash
 * (signal/static.ts), and npm test checks it against the phones' floor (scripts/check-phone-floor.ts).
 */
import { build, type Plugin, type Rolldown } from 'vite';

/** `entry` bundled alone into one self-contained script (an IIFE: nothing leaks into the page's globals). */
export async function bundleScript(entry: string, target: string[], minify = true): Promise<string> {
  const result = (await build({
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      write: false,
      emptyOutDir: false,
      copyPublicDir: false,
      target,
      minify,
      rolldownOptions: { input: entry, output: { format: 'iife' } },
    },
  })) as Rolldown.RolldownOutput;
  const [chunk, ...rest] = result.output;
  if (chunk?.type !== 'chunk' || rest.some((file) => file.type === 'chunk')) {
    throw new Error(`${entry} did not bundle into one script`);
  }
  const code = chunk.code.trim();
  // The HTML parser ends a script at the first `</script`, wherever it is.
  if (/<\/script/i.test(code)) throw new Error(`${entry} holds "</script", which cannot be inlined`);
  return code;
}

export function inlineScript(entry: string, target: string[]): Plugin {
  let minify = true;
  return {
    name: 'padmesh-inline-script',
    configResolved(config) {
      minify = config.build.minify !== false;
    },
    async transformIndexHtml(html) {
      // Right after the charset, before any stylesheet: a classic script after a stylesheet that is still
      // loading waits for it.
      const charset = /<meta charset="utf-8"\s*\/?>/i.exec(html);
      if (!charset) throw new Error('index.html has no <meta charset="utf-8"> to put the inline script after');
      const at = charset.index + charset[0].length;
      return `${html.slice(0, at)}\n    <script>${await bundleScript(entry, target, minify)}</script>${html.slice(at)}`;
    },
  };
}
