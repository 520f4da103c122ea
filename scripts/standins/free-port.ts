import net from 'node:net';
import { randomInt } from 'node:crypto';

// Below Linux's ephemeral range (ip_local_port_range, 32768–60999 by default). A port taken from
// inside it (listen(0), then closed) could be handed again at once to an outgoing connection as
// its local port, or to another process's listen(0): parallel test files then failed with
// EADDRINUSE. Here only other callers of freePort compete, and each pick is checked free.
const lowest = 20_000;
const highest = 32_000;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port that was free a moment ago, so a URL that must be known before a server starts
 * (PUBLIC_BASE_URL, which Twilio signatures cover) can be computed first. Tests, benchmarks and
 * the demo share it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = randomInt(lowest, highest);
    if (await isFree(port)) return port;
  }
  throw new Error(`no free loopback port found between ${lowest} and ${highest}`);
}
