import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../src/platform/config';
import { freePort } from './free-port';

export { freePort };

/**
 * Stores of a test's own, for tests that kill, stop or restart them: the shared Redis and FerretDB
 * serve every other test file running in parallel and must never be touched. Each runs from a
 * temp dir on a free TCP port (apps take URLs), and can be killed and started again on that port.
 * The chaos run (bench/chaos) uses them too, which is why they live outside tests/.
 */
export interface PrivateStore {
  url: string;
  port: number;
  /** Kills the process (SIGKILL by default, as a crash) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts it again on the same port and data dir; resolves once it accepts connections.
   * `empty: true` deletes the data dir's files first (only while stopped): a failover to an empty
   * replica, or a lost volume, whatever the persistence settings.
   */
  start(options?: { empty?: boolean }): Promise<void>;
  running(): boolean;
  /** Kills it and removes its data dir. */
  destroy(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited before it listened on ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function privateStore(what: string, command: (dir: string, port: number) => [string, string[]], port: number): PrivateStore {
  const dir = mkdtempSync(path.join(tmpdir(), `sb-${what}-`));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const store: PrivateStore = {
    url: '',
    port,
    running,
    async kill(signal = 'SIGKILL') {
      if (running()) child!.kill(signal);
      await exited;
    },
    async start(options = {}) {
      if (running()) return;
      if (options.empty) for (const name of readdirSync(dir)) rmSync(path.join(dir, name), { recursive: true, force: true });
      const [bin, args] = command(dir, port);
      child = spawn(bin, args, { stdio: 'ignore' });
      exited = new Promise((resolve) => child!.once('exit', () => resolve()));
      await waitForPort(port, child, what);
    },
    async destroy() {
      await store.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return store;
}

/**
 * A redis-server of the test's own. `persist: false` (default) keeps nothing on disk, so a kill
 * and start gives an empty Redis, as a failover to an empty replica or a lost volume would.
 */
export async function startPrivateRedis(options: { persist?: boolean } = {}): Promise<PrivateStore> {
  const port = await freePort();
  const persistence = options.persist ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  const store = privateStore('redis', (dir) => ['redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence, '--daemonize', 'no']], port);
  store.url = `redis://127.0.0.1:${port}`;
  await store.start();
  return store;
}

/** A FerretDB (the project's build, SQLite backend) of the test's own; its data survives a kill. */
export async function startPrivateFerretDb(database: string): Promise<PrivateStore> {
  const port = await freePort();
  const binary = path.join(projectRoot(), '.tools', 'bin', 'ferretdb');
  const store = privateStore('ferretdb', (dir) => [binary, ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${port}`, `--state-dir=${dir}`, '--debug-addr=-', '--telemetry=disable', '--log-level=error']], port);
  store.url = `mongodb://127.0.0.1:${port}/${database}`;
  await store.start();
  return store;
}
