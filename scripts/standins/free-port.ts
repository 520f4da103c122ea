import net from 'node:net';

/**
 * A loopback port that was free a moment ago, so a URL that must be known before a server starts
 * (PUBLIC_BASE_URL, which Twilio signatures cover) can be computed first. Tests, benchmarks and
 * the demo share it.
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
