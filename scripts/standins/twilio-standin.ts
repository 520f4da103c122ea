/**
 * A local stand-in for Twilio's REST API, for tests and the demo (Twilio is unreachable here).
 * It accepts the calls the real `twilio` SDK makes (send a message, create or update a call),
 * answers in Twilio's JSON shapes, and posts status callbacks back signed exactly as Twilio signs
 * them, and serves inbound MMS media behind basic auth. Point Switchboard at it with TWILIO_API_BASE_URL.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { signTwilioWebhook } from '../../src/channels/twilio/twilio-webhook';

export interface StandinMessage {
  sid: string;
  to: string;
  from?: string;
  messagingServiceSid?: string;
  body?: string;
  mediaUrls: string[];
  statusCallback?: string;
  status: string;
  receivedAt: Date;
}

export interface StandinCall {
  sid: string;
  to?: string;
  from?: string;
  url?: string;
  twiml?: string;
  statusCallback?: string;
  status: string;
  updates: Record<string, string>[];
}

export interface TwilioStandin {
  /** Base URL to put in TWILIO_API_BASE_URL. */
  url: string;
  accountSid: string;
  authToken: string;
  messages: StandinMessage[];
  calls: Map<string, StandinCall>;
  /** Destination numbers whose messages end `undelivered` with error 30003 (unreachable handset). */
  undeliverable: Set<string>;
  /** Destination numbers whose messages are refused at once with HTTP 400 and this Twilio error code (e.g. 21211 invalid 'To', 21610 unsubscribed). */
  rejectTo: Map<string, number>;
  /**
   * The next `count` message creations are accepted (stored, callbacks played) but the HTTP answer
   * never comes: the connection is cut, as when a client times out after Twilio took the message.
   */
  dropResponseNext(count: number): void;
  /** Answers the next `count` REST calls with this HTTP status (e.g. 500, 503) before behaving. */
  failNext(count: number, status?: number): void;
  /**
   * Stores a media file as Twilio does for an inbound MMS and returns its URL (for MediaUrlN). A GET
   * on it needs the account's basic auth and answers 307 to a short-lived CDN URL on the stand-in
   * (as Twilio redirects to mms.twiliocdn.com), or to `redirectTo` when given.
   */
  addMedia(messageSid: string, content: Buffer, contentType: string, options?: { redirectTo?: string }): { sid: string; url: string };
  /** How many authenticated GETs the media URL of `mediaSid` has had. */
  mediaRequests(mediaSid: string): number;
  /** Posts a webhook to `url` with Twilio's signature, as Twilio would. */
  sendWebhook(url: string, params: Record<string, string>, options?: { signatureUrl?: string; signature?: string }): Promise<globalThis.Response>;
  close(): Promise<void>;
}

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

export async function startTwilioStandin(options: {
  accountSid: string;
  authToken: string;
  port?: number;
  callbackDelayMs?: number;
  /** Awaited after a message is created and before the 201 is sent: a test's fault at that instant (e.g. kill the database). */
  beforeAnswer?: (message: StandinMessage) => Promise<void> | void;
}): Promise<TwilioStandin> {
  const { accountSid, authToken } = options;
  const callbackDelayMs = options.callbackDelayMs ?? 20;
  const messages: StandinMessage[] = [];
  const calls = new Map<string, StandinCall>();
  const undeliverable = new Set<string>();
  const rejectTo = new Map<string, number>();
  let dropResponses = 0;
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  const pending = new Set<Promise<unknown>>();
  const media = new Map<string, { sid: string; messageSid: string; content: Buffer; contentType: string; token: string; redirectTo?: string; requests: number }>();

  const sendWebhook = async (url: string, params: Record<string, string>, signing: { signatureUrl?: string; signature?: string } = {}) =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signing.signature ?? signTwilioWebhook(authToken, signing.signatureUrl ?? url, params),
      },
      body: new URLSearchParams(params).toString(),
    });

  /** Status callbacks in order, each after a short delay, like Twilio's asynchronous progress. */
  const playCallbacks = (url: string | undefined, steps: Record<string, string>[]) => {
    if (!url) return;
    const run = (async () => {
      for (const params of steps) {
        await new Promise((resolve) => setTimeout(resolve, callbackDelayMs));
        await sendWebhook(url, params).catch(() => undefined);
      }
    })();
    pending.add(run);
    void run.finally(() => pending.delete(run));
  };

  const app = express();
  app.use(express.urlencoded({ extended: false }));

  const twilioError = (res: Response, status: number, code: number, message: string) =>
    res.status(status).json({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

  app.use('/2010-04-01/Accounts/:accountSid', (req, res, next) => {
    const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    if (req.headers.authorization !== expected || req.params.accountSid !== accountSid) {
      twilioError(res, 401, 20003, 'Authenticate');
      return;
    }
    if (failures.count > 0) {
      failures.count -= 1;
      twilioError(res, failures.status, 20500, 'Internal Server Error');
      return;
    }
    next();
  });

  app.post('/2010-04-01/Accounts/:accountSid/Messages.json', async (req: Request, res: Response) => {
    const body = req.body as Record<string, string | string[]>;
    const to = String(body.To ?? '');
    if (!to) return twilioError(res, 400, 21604, "A 'To' phone number is required.");
    if (!body.Body && !body.MediaUrl) return twilioError(res, 400, 21602, 'Message body is required.');
    const rejection = rejectTo.get(to);
    if (rejection !== undefined) return twilioError(res, 400, rejection, 'The message cannot be sent to this number.');
    const message: StandinMessage = {
      sid: sid('SM'),
      to,
      from: body.From ? String(body.From) : undefined,
      messagingServiceSid: body.MessagingServiceSid ? String(body.MessagingServiceSid) : undefined,
      body: body.Body ? String(body.Body) : undefined,
      mediaUrls: ([] as string[]).concat(body.MediaUrl ?? []),
      statusCallback: body.StatusCallback ? String(body.StatusCallback) : undefined,
      status: 'queued',
      receivedAt: new Date(),
    };
    messages.push(message);
    const base = { MessageSid: message.sid, SmsSid: message.sid, AccountSid: accountSid, To: to, From: message.from ?? '' };
    const final = undeliverable.has(to) ? { ...base, MessageStatus: 'undelivered', ErrorCode: '30003' } : { ...base, MessageStatus: 'delivered' };
    playCallbacks(message.statusCallback, [{ ...base, MessageStatus: 'sent' }, final]);
    message.status = final.MessageStatus;
    if (dropResponses > 0) {
      dropResponses -= 1;
      req.socket.destroy();
      return;
    }
    await options.beforeAnswer?.(message);
    res.status(201).json(messageJson(message, 'queued'));
  });

  /** Twilio's message resource, as both create and list return it. */
  const messageJson = (message: StandinMessage, status = message.status) => ({
    sid: message.sid,
    account_sid: accountSid,
    to: message.to,
    from: message.from ?? null,
    messaging_service_sid: message.messagingServiceSid ?? null,
    body: message.body ?? '',
    status,
    direction: 'outbound-api',
    num_segments: '1',
    num_media: String(message.mediaUrls.length),
    error_code: status === 'undelivered' ? 30003 : null,
    error_message: null,
    date_created: message.receivedAt.toUTCString(),
    date_updated: message.receivedAt.toUTCString(),
    date_sent: status === 'queued' ? null : message.receivedAt.toUTCString(),
    price: null,
    price_unit: 'USD',
    api_version: '2010-04-01',
    uri: `/2010-04-01/Accounts/${accountSid}/Messages/${message.sid}.json`,
    subresource_uris: {},
  });

  /** Lists messages newest first, filtered by To, From and `DateSent>` / `DateSent<` (as the SDK's list() sends them). */
  app.get('/2010-04-01/Accounts/:accountSid/Messages.json', (req: Request, res: Response) => {
    const query = req.query as Record<string, string | undefined>;
    const after = query['DateSent>'] ? new Date(query['DateSent>']) : undefined;
    const before = query['DateSent<'] ? new Date(query['DateSent<']) : undefined;
    const pageSize = Math.min(Math.max(Number(query.PageSize ?? 50) || 50, 1), 1000);
    const matching = messages
      .filter((message) => (!query.To || message.to === query.To) && (!query.From || message.from === query.From))
      .filter((message) => (!after || message.receivedAt > after) && (!before || message.receivedAt < before))
      .reverse()
      .slice(0, pageSize);
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages.json?PageSize=${pageSize}&Page=0`;
    res.json({ messages: matching.map((message) => messageJson(message)), page: 0, page_size: pageSize, start: 0, end: Math.max(matching.length - 1, 0), uri, first_page_uri: uri, next_page_uri: null, previous_page_uri: null });
  });

  const callJson = (call: StandinCall) => ({
    sid: call.sid,
    account_sid: accountSid,
    to: call.to ?? null,
    from: call.from ?? null,
    status: call.status,
    direction: 'outbound-api',
    api_version: '2010-04-01',
    date_created: new Date().toUTCString(),
    uri: `/2010-04-01/Accounts/${accountSid}/Calls/${call.sid}.json`,
    subresource_uris: {},
  });

  app.post('/2010-04-01/Accounts/:accountSid/Calls.json', (req: Request, res: Response) => {
    const body = req.body as Record<string, string>;
    if (!body.To || !body.From) return twilioError(res, 400, 21201, 'To and From are required.');
    if (!body.Url && !body.Twiml) return twilioError(res, 400, 21205, 'Url or Twiml is required.');
    const call: StandinCall = { sid: sid('CA'), to: body.To, from: body.From, url: body.Url, twiml: body.Twiml, statusCallback: body.StatusCallback, status: 'queued', updates: [] };
    calls.set(call.sid, call);
    const base = { CallSid: call.sid, AccountSid: accountSid, To: body.To, From: body.From, Direction: 'outbound-api' };
    playCallbacks(call.statusCallback, [
      { ...base, CallStatus: 'initiated', SequenceNumber: '0' },
      { ...base, CallStatus: 'ringing', SequenceNumber: '1' },
      { ...base, CallStatus: 'in-progress', SequenceNumber: '2' },
    ]);
    res.status(201).json(callJson(call));
  });

  app.post('/2010-04-01/Accounts/:accountSid/Calls/:callSid.json', (req: Request, res: Response) => {
    const body = req.body as Record<string, string>;
    const callSid = String(req.params.callSid);
    const call = calls.get(callSid) ?? { sid: callSid, status: 'in-progress', updates: [] };
    call.updates.push(body);
    if (body.Status === 'completed' || body.Status === 'canceled') call.status = body.Status;
    if (body.Twiml) call.twiml = body.Twiml;
    if (body.Url) call.url = body.Url;
    calls.set(callSid, call);
    res.json(callJson(call));
  });

  app.get('/2010-04-01/Accounts/:accountSid/Messages/:messageSid/Media/:mediaSid', (req: Request, res: Response) => {
    const item = media.get(String(req.params.mediaSid));
    if (!item || item.messageSid !== req.params.messageSid) return twilioError(res, 404, 20404, 'The requested resource was not found');
    item.requests += 1;
    res.redirect(307, item.redirectTo ?? `/cdn/media/${item.sid}?token=${item.token}`);
  });

  // The CDN side: no basic auth, the URL's token is the credential (as with Twilio's signed CDN URLs).
  app.get('/cdn/media/:mediaSid', (req: Request, res: Response) => {
    const item = media.get(String(req.params.mediaSid));
    if (!item || req.query.token !== item.token) return res.status(403).type('text/plain').send('Forbidden');
    res.type(item.contentType).send(item.content);
  });

  app.use((_req, res) => twilioError(res, 404, 20404, 'The requested resource was not found'));

  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    accountSid,
    authToken,
    messages,
    calls,
    undeliverable,
    rejectTo,
    dropResponseNext: (count) => {
      dropResponses = count;
    },
    failNext: (count, status = 500) => {
      failures = { count, status };
    },
    addMedia: (messageSid, content, contentType, mediaOptions = {}) => {
      const item = { sid: sid('ME'), messageSid, content, contentType, token: randomBytes(12).toString('hex'), redirectTo: mediaOptions.redirectTo, requests: 0 };
      media.set(item.sid, item);
      return { sid: item.sid, url: `${url}/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}/Media/${item.sid}` };
    },
    mediaRequests: (mediaSid) => media.get(mediaSid)?.requests ?? 0,
    sendWebhook,
    close: async () => {
      await Promise.allSettled([...pending]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Credentials that look like Twilio's, for the stand-in only. */
export function standinCredentials(): { accountSid: string; authToken: string } {
  return { accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
}
