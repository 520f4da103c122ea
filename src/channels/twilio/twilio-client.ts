import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';

export type TwilioClient = ReturnType<typeof twilio>;

/**
 * Sends the SDK's real REST calls to another base URL (the local stand-in in tests and the demo).
 * Only the origin changes; paths, auth and bodies are exactly what Twilio would receive.
 */
class RebasedRequestClient extends RequestClient {
  constructor(private readonly baseUrl: string) {
    super({ timeout: 10_000 });
  }

  override request<TData>(options: RequestClient.RequestOptions<TData>) {
    const rebased = options.uri.replace(/^https:\/\/[a-z0-9.-]*twilio\.com/i, this.baseUrl.replace(/\/$/, ''));
    return super.request({ ...options, uri: rebased });
  }
}

export function createTwilioClient(settings: { accountSid: string; authToken: string; apiBaseUrl?: string }): TwilioClient {
  return twilio(settings.accountSid, settings.authToken, {
    ...(settings.apiBaseUrl ? { httpClient: new RebasedRequestClient(settings.apiBaseUrl) } : {}),
    timeout: 10_000,
  });
}
