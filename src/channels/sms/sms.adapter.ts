import twilio from 'twilio';
import { createTwilioClient, type TwilioClient } from '../twilio/twilio-client';
import type { DeliveryStatus } from './sms-status';

/** Why a send did not go out, in our terms: may a later attempt succeed, and Twilio's error code. */
export class SmsSendError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SmsSendError';
  }
}

export interface SentSms {
  sid: string;
  status: DeliveryStatus | null;
}

/** The only SMS vendor surface the channel uses; Twilio's strings and errors stay in this file. */
export interface SmsProvider {
  send(message: { to: string; from: string; body: string; statusCallback: string }): Promise<SentSms>;
  /** Messages recently created from `from` to `to` with exactly this body, newest first. */
  findRecent(query: { to: string; from: string; body: string; createdSince: Date }): Promise<SentSms[]>;
}

const statusMap: Record<string, DeliveryStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sending',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/** Maps Twilio's MessageStatus to ours; null for statuses that say nothing about delivery (e.g. `received`). */
export function mapTwilioStatus(status: string | undefined): DeliveryStatus | null {
  return (status && statusMap[status.toLowerCase()]) || null;
}

/** Twilio answers 4xx for requests that will fail the same way again (bad number, unsubscribed…), except 429. */
export function toSendError(error: unknown): SmsSendError {
  const candidate = error as { status?: unknown; code?: unknown; message?: string };
  if (typeof candidate?.status === 'number') {
    const status = candidate.status;
    const retryable = status >= 500 || status === 429 || status === 408;
    const code = candidate.code !== undefined && candidate.code !== null ? String(candidate.code) : `http_${status}`;
    return new SmsSendError(`Twilio answered ${status}`, retryable, code, { cause: error });
  }
  // No HTTP answer at all (timeout, reset, refused): the outcome is unknown, try again later.
  const code = typeof candidate?.code === 'string' ? candidate.code : 'network_error';
  return new SmsSendError('Twilio could not be reached', true, code, { cause: error });
}

export class TwilioSmsProvider implements SmsProvider {
  private readonly client: TwilioClient;

  constructor(settings: { accountSid: string; authToken: string; apiBaseUrl?: string }) {
    this.client = createTwilioClient(settings);
  }

  async send(message: { to: string; from: string; body: string; statusCallback: string }): Promise<SentSms> {
    try {
      const created = await this.client.messages.create(message);
      return { sid: created.sid, status: mapTwilioStatus(created.status) };
    } catch (error) {
      throw toSendError(error);
    }
  }

  async findRecent(query: { to: string; from: string; body: string; createdSince: Date }): Promise<SentSms[]> {
    try {
      // Not filtered by DateSent on the server: a message Twilio accepted but has not sent yet has
      // no date_sent and would be missed. To+From narrow it enough; creation time is checked here.
      const messages = await this.client.messages.list({ to: query.to, from: query.from, limit: 50 });
      return messages
        .filter((message) => message.body === query.body && new Date(message.dateCreated).getTime() >= query.createdSince.getTime())
        .map((message) => ({ sid: message.sid, status: mapTwilioStatus(message.status) }));
    } catch (error) {
      throw toSendError(error);
    }
  }
}

/** A TwiML answer to an inbound text: empty, or one reply message (escaped by the SDK). */
export function messagingTwiml(reply?: string): string {
  const response = new twilio.twiml.MessagingResponse();
  if (reply) response.message(reply);
  return response.toString();
}
