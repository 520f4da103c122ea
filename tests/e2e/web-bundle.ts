import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const webSources = path.join(root, 'web');
export const webBundle = path.join(root, 'dist', 'web');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** True when dist/web is missing or older than anything under web/. */
export function webBundleIsStale(): boolean {
  const index = path.join(webBundle, 'index.html');
  if (!fs.existsSync(index)) return true;
  return newestMtime(webSources) > fs.statSync(index).mtimeMs;
}

/**
 * Builds the browser UI when it is missing or older than its sources. Built beside dist/web and
 * swapped in, so an app serving the old bundle (another test run in this checkout) never sees a
 * half-written one.
 */
export function ensureWebBundle(): void {
  if (!webBundleIsStale()) return;
  const staging = `${webBundle}.build-${process.pid}`;
  const old = `${webBundle}.old-${process.pid}`;
  try {
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', webSources, '--outDir', staging, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new Error(`Building the web UI for the browser tests failed (see above). Fix it and run \`npm run build:web\`. ${(error as Error).message}`);
  }
  if (fs.existsSync(webBundle)) fs.renameSync(webBundle, old);
  fs.renameSync(staging, webBundle);
  fs.rmSync(old, { recursive: true, force: true });
}

/** For the tests themselves: a clear failure instead of a blank page when the bundle is not there. */
export function assertWebBundle(): void {
  if (!fs.existsSync(path.join(webBundle, 'index.html'))) {
    throw new Error('dist/web/index.html is missing: the browser tests need the web UI. Run `npm run build:web` (jest globalSetup normally builds it).');
  }
}
