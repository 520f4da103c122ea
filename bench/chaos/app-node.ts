import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/platform/config';

/**
 * One Switchboard node as a child process (`ROLES=all`: HTTP, SMTP and workers), as production runs
 * it: `kill()` is a SIGKILL, so nothing of its cleanup runs, and `start()` starts a fresh process on
 * the same ports. Built code runs `dist/src/main.js`; from TypeScript sources (jest) the child first
 * installs a transpile-only `.ts` loader, as src/channels/email/parse-pool.ts does for its threads.
 */
export interface AppNode {
  name: string;
  url: string;
  port: number;
  smtpPort: number;
  running(): boolean;
  /** Starts the process; resolves once `/readyz` answers 200 (or rejects after `timeoutMs`). */
  start(timeoutMs?: number): Promise<void>;
  /** SIGKILL (a crash), then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a deploy), bounded; then SIGKILL. */
  stop(): Promise<void>;
}

/** The command that runs src/main.ts (or its build) in a child process. */
function mainCommand(): string[] {
  if (__filename.endsWith('.js')) return [path.join(__dirname, '..', '..', 'src', 'main.js')];
  const entry = path.join(__dirname, '..', '..', 'src', 'main.ts');
  const bootstrap = `
    const fs = require('node:fs');
    const ts = require(${JSON.stringify(require.resolve('typescript'))});
    require.extensions['.ts'] = (module, filename) => {
      const source = fs.readFileSync(filename, 'utf8');
      const output = ts.transpileModule(source, { fileName: filename, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true } });
      module._compile(output.outputText, filename);
    };
    const main = require(${JSON.stringify(entry)});
    const config = main.configOrExit();
    void main.runUntilSignalled(() => require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'app.ts'))}).startSwitchboard(config));
  `;
  return ['-e', bootstrap];
}

export function appNode(options: { name: string; port: number; smtpPort: number; env: Record<string, string>; logFile: string }): AppNode {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log: WriteStream | undefined;
  const url = `http://127.0.0.1:${options.port}`;
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const node: AppNode = {
    name: options.name,
    url,
    port: options.port,
    smtpPort: options.smtpPort,
    running,
    async start(timeoutMs = 60_000) {
      if (running()) return;
      log ??= createWriteStream(options.logFile, { flags: 'a' });
      log.write(`\n--- ${new Date().toISOString()} ${options.name} starting\n`);
      child = spawn(process.execPath, mainCommand(), {
        cwd: projectRoot(),
        env: { ...process.env, ...options.env, PORT: String(options.port), SMTP_PORT: String(options.smtpPort) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.pipe(log, { end: false });
      child.stderr!.pipe(log, { end: false });
      const current = child;
      exited = new Promise((resolve) => current.once('exit', () => resolve()));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!running()) throw new Error(`${options.name} exited during start (exit ${current.exitCode ?? current.signalCode}); see ${options.logFile}`);
        if (await isReady(url)) return;
        if (Date.now() > deadline) throw new Error(`${options.name} not ready within ${timeoutMs} ms; see ${options.logFile}`);
        await sleep(100);
      }
    },
    async kill() {
      if (running()) child!.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) {
        child!.kill('SIGTERM');
        const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      log?.end();
      log = undefined;
    },
  };
  return node;
}

/** `/readyz` answered 200 `ready` within a second. */
export async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_000) });
    const body = (await response.json().catch(() => ({}))) as { status?: string };
    return response.status === 200 && body.status === 'ready';
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
