import type { InteractionService } from '../../interactions';
import type { Logger } from '../../platform/logger';
import type { SmsMediaJob } from './sms.jobs';
import { isTwilioMediaRedirect, isTwilioMediaUrl } from './sms-media';

/** The content-addressed attachment store, as media downloads use it. */
export interface MediaStore {
  put(kind: 'files', content: Buffer): Promise<{ sha256: string; size: number; path: string }>;
}

export interface SmsMediaSettings {
  accountSid?: string;
  authToken?: string;
  apiBaseUrl?: string;
  maxBytes: number;
  timeoutMs: number;
}

/** Why a media item will never be stored; recorded as a flag on the attachment. No retry helps. */
class MediaRefused extends Error {
  constructor(readonly flag: 'media_over_size_cap' | 'media_redirect_untrusted' | 'media_download_failed', readonly httpStatus?: number) {
    super(flag);
  }
}

const maxRedirects = 5;
const retriableStatuses = new Set([404, 408, 425, 429]);

/**
 * Fetches inbound MMS media from Twilio with the account's credentials into the attachment store and
 * records digest, size and stored path on the entry's attachment. Only URLs that pass the Twilio
 * host check are fetched; redirects are followed only to Twilio or its CDN, and the credentials only
 * go to the origin of the media URL itself.
 */
export class SmsMediaDownloader {
  constructor(
    private readonly interactions: InteractionService,
    private readonly store: MediaStore,
    private readonly settings: SmsMediaSettings,
    private readonly log: Logger,
  ) {}

  get enabled(): boolean {
    return Boolean(this.settings.accountSid && this.settings.authToken);
  }

  async download(job: SmsMediaJob, attempt: { final: boolean }): Promise<void> {
    const context = { interactionId: job.interactionId, entryId: job.entryId, messageSid: job.messageSid, index: job.index };
    const interaction = await this.interactions.getInteraction(job.interactionId);
    const attachment = interaction.entries?.find((entry) => entry.id === job.entryId)?.attachments?.[job.index];
    if (!attachment?.url) return void this.log.warn(context, 'sms media job for a missing attachment skipped');
    if (attachment.sha256) return; // stored by an earlier run of this job
    if (!isTwilioMediaUrl(attachment.url, this.settings.apiBaseUrl)) return; // never fetched; the entry is flagged already

    try {
      const content = await this.fetchMedia(attachment.url);
      const stored = await this.store.put('files', content);
      await this.interactions.updateEntryAttachment(job.interactionId, job.entryId, job.index, { sha256: stored.sha256, size: stored.size, path: stored.path });
      this.log.info({ ...context, size: stored.size }, 'sms media stored');
    } catch (error) {
      if (error instanceof MediaRefused || attempt.final) {
        const flag = error instanceof MediaRefused ? error.flag : 'media_download_failed';
        await this.interactions.updateEntryAttachment(job.interactionId, job.entryId, job.index, { flags: [flag] });
        this.log.warn({ ...context, flag, httpStatus: error instanceof MediaRefused ? error.httpStatus : undefined, err: error instanceof MediaRefused ? undefined : error }, 'sms media not stored');
        return;
      }
      throw error;
    }
  }

  private async fetchMedia(mediaUrl: string): Promise<Buffer> {
    const origin = new URL(mediaUrl).origin;
    const authorization = `Basic ${Buffer.from(`${this.settings.accountSid}:${this.settings.authToken}`).toString('base64')}`;
    let url = mediaUrl;
    for (let hop = 0; hop <= maxRedirects; hop += 1) {
      const response = await fetch(url, {
        redirect: 'manual',
        headers: new URL(url).origin === origin ? { authorization } : {},
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        url = new URL(location, url).toString();
        if (!isTwilioMediaRedirect(url, this.settings.apiBaseUrl)) throw new MediaRefused('media_redirect_untrusted', response.status);
        continue;
      }
      if (response.ok) return this.readCapped(response);
      await response.body?.cancel();
      // 5xx and "not there yet" are worth another try; other answers (401, 403, 410) will not change.
      if (response.status >= 500 || retriableStatuses.has(response.status)) throw new Error(`media download answered ${response.status}`);
      throw new MediaRefused('media_download_failed', response.status);
    }
    throw new MediaRefused('media_download_failed');
  }

  /** The body, or MediaRefused once it passes the cap (announced or counted), never buffering past it. */
  private async readCapped(response: Response): Promise<Buffer> {
    const { maxBytes } = this.settings;
    if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
      await response.body?.cancel();
      throw new MediaRefused('media_over_size_cap');
    }
    const chunks: Buffer[] = [];
    let total = 0;
    if (!response.body) return Buffer.alloc(0);
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        throw new MediaRefused('media_over_size_cap');
      }
      chunks.push(Buffer.from(value));
    }
    return Buffer.concat(chunks, total);
  }
}
