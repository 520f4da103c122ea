import { z } from 'zod';

const twilioSid = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`), `must be a Twilio ${prefix}… id`);
const maxMedia = 10;

/** Twilio's inbound message webhook (form-encoded); media come as MediaUrl0…N / MediaContentType0…N. */
export const inboundSmsSchema = z
  .looseObject({
    MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/, 'must be a Twilio SM… or MM… id'),
    AccountSid: twilioSid('AC'),
    From: z.string().trim().min(1, 'is required').max(100),
    To: z.string().trim().min(1, 'is required').max(100),
    Body: z.string().max(20_000).default(''),
    NumMedia: z.coerce.number().int().min(0).max(maxMedia).default(0),
  })
  .superRefine((value, ctx) => {
    for (let index = 0; index < value.NumMedia; index += 1) {
      if (typeof value[`MediaUrl${index}`] !== 'string' || !value[`MediaUrl${index}`]) {
        ctx.addIssue({ code: 'custom', path: [`MediaUrl${index}`], message: `is required when NumMedia is ${value.NumMedia}` });
      }
    }
  })
  .transform((value) => ({
    messageSid: value.MessageSid,
    from: value.From,
    to: value.To,
    body: value.Body,
    media: Array.from({ length: value.NumMedia }, (_, index) => ({
      url: String(value[`MediaUrl${index}`]),
      contentType: typeof value[`MediaContentType${index}`] === 'string' && value[`MediaContentType${index}`] ? String(value[`MediaContentType${index}`]) : 'application/octet-stream',
    })),
  }));

export type InboundSms = z.output<typeof inboundSmsSchema>;

/** Twilio's message status callback. Unknown statuses are accepted and ignored, not refused. */
export const smsStatusSchema = z
  .looseObject({
    MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/, 'must be a Twilio SM… or MM… id'),
    MessageStatus: z.string().trim().min(1, 'is required').max(40),
    ErrorCode: z.string().trim().max(20).optional(),
  })
  .transform((value) => ({ messageSid: value.MessageSid, status: value.MessageStatus, errorCode: value.ErrorCode || undefined }));

export type SmsStatusReport = z.output<typeof smsStatusSchema>;
