import { execFileSync } from 'node:child_process';
import path from 'node:path';
import mongoose from 'mongoose';

// A test database older than this belongs to a run that died before dropping it, not a running one.
const staleAfterMs = 2 * 60 * 60 * 1000;

/**
 * Integration tests run against the real FerretDB and Redis. `services.sh start` is idempotent:
 * it reuses servers that already answer and starts the project-local ones otherwise. Then test
 * databases left by interrupted runs are dropped, so `.data` does not grow run after run.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.SKIP_SERVICES_START !== '1') {
    execFileSync('bash', [path.join(__dirname, '..', '..', 'scripts', 'services.sh'), 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  await dropStaleTestDatabases();
}

async function dropStaleTestDatabases(): Promise<void> {
  const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/switchboard';
  const connection = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
  try {
    const { databases } = await connection.db!.admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) {
      // Names are sbtest_<base-36 ms timestamp>_<random>, see uniqueName in test-app.ts.
      const match = /^sbtest_([0-9a-z]+)_[0-9a-f]+$/.exec(name);
      if (match && Date.now() - parseInt(match[1], 36) > staleAfterMs) await connection.useDb(name).dropDatabase();
    }
  } finally {
    await connection.close();
  }
}
