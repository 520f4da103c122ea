import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createTwilioClient } from '../../src/channels/twilio/twilio-client';
import { verifyTwilioSignature } from '../../src/channels/twilio/twilio-webhook';
import { httpErrorHandler } from '../../src/platform/http/error-handler';
import { createLogger } from '../../src/platform/logger';
import { standinCredentials, startTwilioStandin, type TwilioStandin } from '../../scripts/standins/twilio-standin';

describe('the Twilio stand-in and webhook verification', () => {
  let standin: TwilioStandin;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: Record<string, string>[] = [];
  const { accountSid, authToken } = standinCredentials();

  beforeAll(async () => {
    standin = await startTwilioStandin({ accountSid, authToken, callbackDelayMs: 5 });
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    // Pretend the public URL differs from the local one, as behind a proxy: verification must use it.
    app.post('/hooks/status', verifyTwilioSignature({ authToken, publicBaseUrl: 'https://switchboard.example.com', skipSignatureCheck: false }), (req, res) => {
      received.push(req.body as Record<string, string>);
      res.status(204).end();
    });
    app.use(httpErrorHandler(createLogger('silent')));
    receiver = http.createServer(app);
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await standin.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('when the real SDK sends a message, then the stand-in receives exactly what Twilio would', async () => {
    const client = createTwilioClient({ accountSid, authToken, apiBaseUrl: standin.url });
    const message = await client.messages.create({ to: '+8613800000001', from: '+8657100000000', body: 'Your car is ready' });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe('queued');
    expect(standin.messages.at(-1)).toMatchObject({ to: '+8613800000001', body: 'Your car is ready' });
  });

  it('when the stand-in is told to fail, then the SDK sees a RestException with the status', async () => {
    const client = createTwilioClient({ accountSid, authToken, apiBaseUrl: standin.url });
    standin.failNext(1, 503);
    await expect(client.messages.create({ to: '+8613800000001', from: '+8657100000000', body: 'x' })).rejects.toMatchObject({ status: 503 });
  });

  it('when a signed webhook arrives for the public URL, then it passes; forged or unsigned, then 403', async () => {
    const params = { MessageSid: 'SM1', MessageStatus: 'delivered' };
    const good = await standin.sendWebhook(`${receiverUrl}/hooks/status`, params, { signatureUrl: 'https://switchboard.example.com/hooks/status' });
    expect(good.status).toBe(204);
    const wrongUrl = await standin.sendWebhook(`${receiverUrl}/hooks/status`, params);
    expect(wrongUrl.status).toBe(403);
    const forged = await standin.sendWebhook(`${receiverUrl}/hooks/status`, params, { signature: 'AAAA' });
    expect(forged.status).toBe(403);
    const unsigned = await fetch(`${receiverUrl}/hooks/status`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'MessageSid=SM2' });
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    expect(received).toEqual([params]);
  });
});
