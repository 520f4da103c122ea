import { ConfigError, loadConfig, type Config } from './platform/config';
import { createLogger } from './platform/logger';
import { startSwitchboard, type Switchboard } from './app';

/** Loads config or exits with a message naming every bad variable. */
export function configOrExit(overrides: Record<string, string> = {}): Config {
  try {
    return loadConfig(process.env, overrides);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSet these in the environment (see README, "Configuration").\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

/** Runs until SIGTERM/SIGINT, then drains and closes everything once. */
export async function runUntilSignalled(start: () => Promise<Switchboard>): Promise<Switchboard> {
  // Before the app's own logger exists; start-up failures are always worth a line.
  const bootLog = createLogger('info');
  process.on('unhandledRejection', (reason) => bootLog.error({ err: reason }, 'unhandled rejection'));
  let app: Switchboard;
  try {
    app = await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      // A refusal found at start (e.g. demo accounts outside demo mode) says what to do, like a bad variable.
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    bootLog.fatal({ err: error }, 'switchboard failed to start; check that MongoDB and Redis answer (npm run services status)');
    process.exit(1);
  }
  const stop = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return app;
}

if (require.main === module) {
  const config = configOrExit();
  void runUntilSignalled(() => startSwitchboard(config));
}
