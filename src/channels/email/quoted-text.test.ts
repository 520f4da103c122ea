import { stripQuotedReply } from './quoted-text';

describe('stripping quoted replies', () => {
  it('when Gmail quotes with "On … wrote:", then only the new text is kept', () => {
    expect(stripQuotedReply('Thanks, Monday works.\n\nOn Mon, 2 Mar 2026 at 10:00, Support <support@x.cn> wrote:\n> Can you come?')).toBe('Thanks, Monday works.');
  });

  it('when the "wrote:" line wraps onto two lines, then it is still recognised', () => {
    expect(stripQuotedReply('Yes.\n\nOn Mon, 2 Mar 2026 at 10:00, Support Team <support@x.cn>\nwrote:\n> old')).toBe('Yes.');
  });

  it('when Outlook quotes with a header block, then the block and below are cut', () => {
    const text = 'See attached.\r\n\r\n-----Original Message-----\r\nFrom: Support\r\nSent: Monday\r\nSubject: Case';
    expect(stripQuotedReply(text)).toBe('See attached.');
    expect(stripQuotedReply('好的\n\n发件人: 客服\n发送时间: 2026年3月2日\n主题: 维修')).toBe('好的');
  });

  it('when a line merely starts with "From:" in the text, then nothing is cut', () => {
    expect(stripQuotedReply('From: my experience the brakes squeal.\nPlease check.')).toBe('From: my experience the brakes squeal.\nPlease check.');
  });

  it('when quotes are interleaved with answers, then nothing is cut', () => {
    const text = '> Is it rust?\nYes, on the door.\n> Which side?\nLeft, and also the hood and the roof and the trunk.\nAnd the wheels.';
    expect(stripQuotedReply(text)).toBe(text);
  });

  it('when the whole message is a quote, then the text is kept rather than emptied', () => {
    expect(stripQuotedReply('> only a quote\n> nothing new')).toBe('> only a quote\n> nothing new');
  });
});

describe('stripping quoted replies at scale', () => {
  it('when 32k lines alternate "> a" and "a", then the cut takes milliseconds, not seconds', () => {
    const lines = Array.from({ length: 32_000 }, (_, index) => (index % 2 === 0 ? '> a' : 'a'));
    const started = performance.now();
    expect(stripQuotedReply(lines.join('\n'))).toBe(lines.join('\n'));
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('when a long answer ends in a long quote, then the quote is still cut', () => {
    const answer = Array.from({ length: 1_000 }, () => 'new text').join('\n');
    const quote = Array.from({ length: 5_000 }, () => '> old').join('\n');
    expect(stripQuotedReply(`${answer}\n${quote}`)).toBe(answer);
  });
});
