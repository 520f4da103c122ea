import fs from 'node:fs';
import { z } from 'zod';
import { isTimeZone, wallClock } from '../../platform/zoned-time';

/**
 * What each of our dialled numbers does: greeting, business hours, optional IVR menu, queues.
 * Read once at start from `config/voice-numbers.json` and validated, so a typo stops the start
 * instead of sending callers to a queue nobody works.
 */
const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof weekdays)[number];

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:MM (00:00 to 24:00)');
const queueName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lowercase queue name like after-sales');

const timeZone = z.string().refine(isTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai');

const periodSchema = z
  .object({ days: z.array(z.enum(weekdays)).min(1), open: clockTime, close: clockTime })
  .refine((period) => minutesOf(period.open) < minutesOf(period.close), { message: 'open must be before close', path: ['close'] });

const hoursSchema = z.object({ timeZone, periods: z.array(periodSchema).min(1) });
export type BusinessHours = z.infer<typeof hoursSchema>;

const menuSchema = z.object({
  prompt: z.string().min(1),
  options: z.record(z.string().regex(/^[0-9]$/, 'menu keys are single digits'), z.object({ label: z.string().min(1), queue: queueName })),
});
export type IvrMenu = z.infer<typeof menuSchema>;

const numberSchema = z.object({
  description: z.string().optional(),
  greeting: z.string().min(1),
  /** Say voice language, e.g. zh-CN or en-US. */
  language: z.string().optional(),
  /** Absent: open around the clock. */
  hours: hoursSchema.optional(),
  /** Forces the after-hours path (a holiday, an emergency closure, a voicemail-only line). */
  closed: z.boolean().default(false),
  menu: menuSchema.optional(),
  defaultQueue: queueName,
  afterHours: z
    .object({ action: z.enum(['voicemail', 'callback']), message: z.string().min(1), maxRecordingSeconds: z.number().int().min(10).max(600).default(120) })
    .default({ action: 'voicemail', message: 'We are closed. Please leave a message after the tone.', maxRecordingSeconds: 120 }),
});
export type NumberSettings = z.infer<typeof numberSchema>;

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'keys must be E.164 numbers like +862150000000');

const fileSchema = z.object({
  /** Played while callers wait; absent means silence (pauses) between announcements. */
  holdMusicUrl: z.url().optional(),
  default: numberSchema,
  numbers: z.record(e164, numberSchema).default({}),
});
export type VoiceNumbers = z.infer<typeof fileSchema>;

/** Validates the numbers file content; throws an Error naming every bad path. */
export function parseVoiceNumbers(raw: unknown, source = 'voice-numbers.json'): VoiceNumbers {
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`Invalid ${source}:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

export function loadVoiceNumbers(file: string): VoiceNumbers {
  if (!fs.existsSync(file)) throw new Error(`Voice numbers file not found: ${file}`);
  return parseVoiceNumbers(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

/** The dialled number's settings; unknown numbers (a new DID not yet configured) get the default. */
export function settingsFor(numbers: VoiceNumbers, dialled: string): NumberSettings {
  return numbers.numbers[dialled.trim()] ?? numbers.default;
}

function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return hours * 60 + minutes;
}

/** Weekday and minutes since midnight at `at` in `zone`; Intl applies that zone's DST rules. */
export function localTime(at: Date, zone: string): { day: Weekday; minutes: number } {
  const wall = wallClock(at, zone);
  // `weekdays` starts on Sunday, as getUTCDay counts.
  const day = weekdays[new Date(Date.UTC(wall.year, wall.month - 1, wall.day)).getUTCDay()];
  return { day, minutes: wall.hour * 60 + wall.minute };
}

/** Whether `at` falls inside the business hours (open inclusive, close exclusive). */
export function isWithinHours(hours: BusinessHours | undefined, at: Date): boolean {
  if (!hours) return true;
  const local = localTime(at, hours.timeZone);
  return hours.periods.some((period) => period.days.includes(local.day) && local.minutes >= minutesOf(period.open) && local.minutes < minutesOf(period.close));
}

/** Whether a caller reaching this number now is served live (queue/menu) or after hours. */
export function isOpenNow(settings: NumberSettings, at: Date): boolean {
  return !settings.closed && isWithinHours(settings.hours, at);
}
