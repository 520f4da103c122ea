import path from 'node:path';
import { isOpenNow, isWithinHours, loadVoiceNumbers, localTime, parseVoiceNumbers, settingsFor, type BusinessHours } from './voice-numbers';

const shanghai: BusinessHours = { timeZone: 'Asia/Shanghai', periods: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'], open: '08:00', close: '20:00' }] };
const newYork: BusinessHours = { timeZone: 'America/New_York', periods: [{ days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], open: '08:00', close: '20:00' }] };

describe('business hours', () => {
  it('when it is 08:00 sharp on a Monday in Shanghai, then the line is open; 19:59 open; 20:00 closed', () => {
    expect(isWithinHours(shanghai, new Date('2026-01-05T00:00:00Z'))).toBe(true);
    expect(isWithinHours(shanghai, new Date('2026-01-05T11:59:00Z'))).toBe(true);
    expect(isWithinHours(shanghai, new Date('2026-01-05T12:00:00Z'))).toBe(false);
  });

  it('when it is Sunday in Shanghai, then the line is closed; the same time on Saturday is open', () => {
    expect(localTime(new Date('2026-01-04T04:00:00Z'), 'Asia/Shanghai')).toEqual({ day: 'sun', minutes: 12 * 60 });
    expect(isWithinHours(shanghai, new Date('2026-01-04T04:00:00Z'))).toBe(false);
    expect(isWithinHours(shanghai, new Date('2026-01-03T04:00:00Z'))).toBe(true);
  });

  it('when New York springs forward (2026-03-08), then 12:30Z is 08:30 EDT (open) and 00:05Z next day is 20:05 EDT (closed)', () => {
    expect(isWithinHours(newYork, new Date('2026-03-07T12:30:00Z'))).toBe(false); // 07:30 EST the day before
    expect(isWithinHours(newYork, new Date('2026-03-08T12:30:00Z'))).toBe(true); // a fixed EST offset would say 07:30
    expect(isWithinHours(newYork, new Date('2026-03-09T00:05:00Z'))).toBe(false); // a fixed EST offset would say 19:05
  });

  it('when New York falls back (2026-11-01), then 12:30Z is 07:30 EST: closed', () => {
    expect(isWithinHours(newYork, new Date('2026-10-31T12:30:00Z'))).toBe(true); // 08:30 EDT
    expect(isWithinHours(newYork, new Date('2026-11-01T12:30:00Z'))).toBe(false);
  });

  it('when a number has no hours, then it is open around the clock unless closed is set', () => {
    const settings = parseVoiceNumbers({ default: { greeting: 'Hello', defaultQueue: 'general' } }).default;
    expect(isOpenNow(settings, new Date('2026-01-04T19:00:00Z'))).toBe(true);
    expect(isOpenNow({ ...settings, closed: true }, new Date('2026-01-04T19:00:00Z'))).toBe(false);
  });
});

describe('the voice numbers file', () => {
  it('when the shipped config/voice-numbers.json is loaded, then it validates and maps the menu digits to queues', () => {
    const numbers = loadVoiceNumbers(path.join(__dirname, '..', '..', '..', 'config', 'voice-numbers.json'));
    const hotline = settingsFor(numbers, '+862150000000');
    expect(Object.fromEntries(Object.entries(hotline.menu!.options).map(([digit, option]) => [digit, option.queue]))).toEqual({ 1: 'sales', 2: 'after-sales', 3: 'warranty' });
    expect(settingsFor(numbers, '+14155550100')).toBe(numbers.default);
  });

  it('when a time zone or a time is wrong, then parsing fails naming each path', () => {
    const bad = { default: { greeting: 'Hi', defaultQueue: 'general', hours: { timeZone: 'Mars/Olympus', periods: [{ days: ['mon'], open: '20:00', close: '08:00' }] } } };
    expect(() => parseVoiceNumbers(bad)).toThrow(/default\.hours\.timeZone[\s\S]*default\.hours\.periods\.0\.close/);
  });

  it('when a number is not E.164 or a menu key is not one digit, then parsing fails naming it', () => {
    const base = { greeting: 'Hi', defaultQueue: 'general' };
    expect(() => parseVoiceNumbers({ default: base, numbers: { '021-5000': base } })).toThrow(/numbers\.021-5000/);
    const menu = { prompt: 'Press', options: { '12': { label: 'x', queue: 'sales' } } };
    expect(() => parseVoiceNumbers({ default: base, numbers: { '+862150000000': { ...base, menu } } })).toThrow(/numbers\.\+862150000000\.menu\.options/);
  });
});
