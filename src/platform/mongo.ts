import mongoose, { type Connection } from 'mongoose';
import type { Logger } from './logger';

// Fail fast instead of queueing commands while disconnected: a webhook must get an error it can
// retry, not hang. (Mongoose's default buffers for 10 s.) While the database is down a command fails
// at once when its connection drops, or after serverSelectionTimeoutMS (5 s) once the driver knows
// the server is gone: the edges answer 503 / SMTP 451 within that, well inside Twilio's 15 s webhook
// timeout. sanitizeFilter strips `$`-operators smuggled in through user input.
mongoose.set('bufferCommands', false);
mongoose.set('sanitizeFilter', true);
mongoose.set('strictQuery', true);

// Connections we are closing on purpose, whose disconnect is not worth a warning.
const closing = new WeakSet<Connection>();

/** Opens a dedicated connection (not the global one), so tests can run one database per app. */
export async function connectMongo(uri: string, log: Logger): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    bufferCommands: false,
    autoIndex: true,
    serverSelectionTimeoutMS: 5_000,
    maxPoolSize: 20,
  });
  connection.on('disconnected', () => {
    if (!closing.has(connection)) log.warn('mongo disconnected');
  });
  connection.on('reconnected', () => log.info('mongo reconnected'));
  await connection.asPromise();
  log.info({ db: connection.name }, 'mongo connected');
  return connection;
}

/** Closes on purpose, so the disconnect is not reported as a problem. */
export async function closeMongo(connection: Connection): Promise<void> {
  closing.add(connection);
  await connection.close();
}

/** Answers within `timeoutMs`: a readiness probe must not wait out the driver's server selection. */
export async function pingMongo(connection: Connection, timeoutMs = 1_000): Promise<void> {
  if (!connection.db) throw new Error('mongo not connected');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('mongo ping timed out')), timeoutMs);
  });
  try {
    await Promise.race([connection.db.admin().command({ ping: 1 }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URI with the option that makes the driver emit command events (a URI option, so every pooled connection has it): for counting round trips in benches and tests. */
export function withCommandMonitoring(uri: string): string {
  return `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true`;
}
