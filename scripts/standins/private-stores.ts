import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

export interface PrivateSentinelRedis {
  /** `redis+sentinel://127.0.0.1:<sentinel port>/<masterName>`: what the app is given. */
  url: string;
  masterName: string;
  master: PrivateStore;
  replica: PrivateStore;
  sentinel: PrivateStore;
  /** The port Sentinel names as the master now (it changes with a failover). */
  masterPort(): Promise<number>;
  destroy(): Promise<void>;
}

async function redisCli(port: number, ...args: string[]): Promise<string> {
  const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => child.once('exit', resolve));
  return out;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A Redis master, one replica (`--replicaof`) and one Sentinel watching them (quorum 1), all of
 * the test's own, no persistence. Resolves once the replica is in sync and the Sentinel knows it,
 * so killing the master leads to a failover: Sentinel sees it down after `downAfterMs` and
 * promotes the replica.
 */
export async function startPrivateRedisSentinel(options: { downAfterMs?: number; failoverTimeoutMs?: number } = {}): Promise<PrivateSentinelRedis> {
  const masterName = 'sbmaster';
  const master = await startPrivateRedis();
  const replicaPort = await freePort();
  const replica = privateStore('redis-replica', (dir) => ['redis-server', ['--port', String(replicaPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--replicaof', '127.0.0.1', String(master.port)]], replicaPort);
  replica.url = `redis://127.0.0.1:${replicaPort}`;
  await replica.start();
  const sentinelPort = await freePort();
  const sentinel = privateStore('redis-sentinel', (dir, port) => {
    // Sentinel rewrites its config file with what it learns; a restart keeps it.
    const conf = path.join(dir, 'sentinel.conf');
    if (!existsSync(conf)) {
      writeFileSync(conf, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1`,
        `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 5000}`,
        `sentinel parallel-syncs ${masterName} 1`, '',
      ].join('\n'));
    }
    return ['redis-server', [conf, '--sentinel']];
  }, sentinelPort);
  sentinel.url = `redis://127.0.0.1:${sentinelPort}`;
  await sentinel.start();
  const stores = [sentinel, replica, master];
  try {
    await until('replica in sync', async () => (await redisCli(replicaPort, 'info', 'replication')).includes('master_link_status:up'));
    await until('sentinel knows the replica', async () => (await redisCli(sentinelPort, 'sentinel', 'replicas', masterName)).includes(String(replicaPort)));
  } catch (error) {
    for (const store of stores) await store.destroy();
    throw error;
  }
  return {
    url: `redis+sentinel://127.0.0.1:${sentinelPort}/${masterName}`,
    masterName,
    master,
    replica,
    sentinel,
    async masterPort() {
      const [, port] = (await redisCli(sentinelPort, 'sentinel', 'get-master-addr-by-name', masterName)).trim().split('\n');
      return Number(port);
    },
    async destroy() {
      for (const store of stores) await store.destroy();
    },
  };
}

/** A FerretDB (the project's build, SQLite backend) of the test's own; its data survives a kill. */
export async function startPrivateFerretDb(database: string): Promise<PrivateStore> {
  const port = await freePort();
  const binary = path.join(projectRoot(), '.tools', 'bin', 'ferretdb');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: \`npm run setup\` (or \`npm run services -- start\`) builds it`);
  const store = privateStore('ferretdb', (dir) => [binary, ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${port}`, `--state-dir=${dir}`, '--debug-addr=-', '--telemetry=disable', '--log-level=error']], port);
  store.url = `mongodb://127.0.0.1:${port}/${database}`;
  await store.start();
  return store;
}
