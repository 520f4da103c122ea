import { smsSegments } from './sms-segments';

describe('smsSegments', () => {
  it('when a plain text has 160 characters, then it is one GSM-7 segment; 161, then two', () => {
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
  });

  it('when a concatenated GSM-7 text is counted, then each segment holds 153 septets', () => {
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('when the text has extension characters like € and [, then each counts as two septets', () => {
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(smsSegments(`${'a'.repeat(159)}[`)).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
    expect(smsSegments('{}\\~]|^').units).toBe(14);
  });

  it('when an escape pair would straddle the 153-septet boundary, then it moves to the next segment', () => {
    // 306 septets would fit two parts of 153 if the pair could be cut; it cannot, so it takes three.
    expect(smsSegments(`${'a'.repeat(152)}€${'a'.repeat(151)}`).segments).toBe(2);
    expect(smsSegments(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toEqual({ encoding: 'GSM-7', segments: 3, units: 306 });
  });

  it('when the text has a character outside GSM-7, then the whole text is UCS-2 with 70/67 limits', () => {
    expect(smsSegments('你'.repeat(70))).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(smsSegments('你'.repeat(71))).toEqual({ encoding: 'UCS-2', segments: 2, units: 71 });
    expect(smsSegments(`${'a'.repeat(134)}ç`).segments).toBe(3);
    expect(smsSegments('a'.repeat(134) + 'ç').encoding).toBe('UCS-2');
  });

  it('when the text has an emoji, then it is UCS-2 and the surrogate pair counts two and is never split', () => {
    expect(smsSegments('Your car is ready 🚗')).toEqual({ encoding: 'UCS-2', segments: 1, units: 20 });
    expect(smsSegments('🚗'.repeat(35)).segments).toBe(1);
    expect(smsSegments('🚗'.repeat(36)).segments).toBe(2);
    // 66 units then a pair: 68 would overflow 67, so the pair opens segment two.
    expect(smsSegments(`${'你'.repeat(66)}🚗${'你'.repeat(3)}`).segments).toBe(2);
    expect(smsSegments(`${'你'.repeat(66)}🚗${'你'.repeat(66)}`).segments).toBe(3);
  });

  it('when the text is empty, then it costs nothing', () => {
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', segments: 0, units: 0 });
  });
});
