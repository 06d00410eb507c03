import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clientBuildIsStale } from '../../scripts/client-build.ts';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function touch(path: string, secondsAgo: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'x');
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, at, at);
}

describe('npm start rebuilds the client', () => {
  it('when the build is missing', () => {
    root = mkdtempSync(join(tmpdir(), 'padmesh-build-'));
    touch(join(root, 'client', 'src', 'main.tsx'), 100);
    expect(clientBuildIsStale(root)).toBe(true);
  });

  it('when a source (even a nested one, or the shared protocol) is newer than the build', () => {
    root = mkdtempSync(join(tmpdir(), 'padmesh-build-'));
    touch(join(root, 'client', 'views', 'deep', 'Page.tsx'), 100);
    touch(join(root, 'signal', 'protocol.ts'), 100);
    touch(join(root, 'dist', 'client', 'index.html'), 50);
    for (const dir of ['client', join('client', 'views'), join('client', 'views', 'deep'), 'signal']) {
      const at = new Date(Date.now() - 100_000);
      utimesSync(join(root, dir), at, at);
    }
    expect(clientBuildIsStale(root)).toBe(false);
    touch(join(root, 'client', 'views', 'deep', 'Page.tsx'), 10);
    expect(clientBuildIsStale(root)).toBe(true);
    touch(join(root, 'client', 'views', 'deep', 'Page.tsx'), 100);
    utimesSync(join(root, 'client', 'views', 'deep'), new Date(Date.now() - 100_000), new Date(Date.now() - 100_000));
    touch(join(root, 'signal', 'protocol.ts'), 10);
    expect(clientBuildIsStale(root)).toBe(true);
  });

  it('not when the build is newer than every source', () => {
    root = mkdtempSync(join(tmpdir(), 'padmesh-build-'));
    touch(join(root, 'client', 'src', 'main.tsx'), 100);
    utimesSync(join(root, 'client', 'src'), new Date(Date.now() - 100_000), new Date(Date.now() - 100_000));
    utimesSync(join(root, 'client'), new Date(Date.now() - 100_000), new Date(Date.now() - 100_000));
    touch(join(root, 'dist', 'client', 'index.html'), 1);
    expect(clientBuildIsStale(root)).toBe(false);
  });
});
