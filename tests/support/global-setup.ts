import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Integration tests run against the real FerretDB and Redis. `services.sh start` is idempotent:
 * it reuses servers that already answer and starts the project-local ones otherwise.
 */
export default function globalSetup(): void {
  if (process.env.SKIP_SERVICES_START === '1') return;
  execFileSync('bash', [path.join(__dirname, '..', '..', 'scripts', 'services.sh'), 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
}
