import { cutHtml } from './email-digest';

describe('cutHtml', () => {
  const limits = { maxHtmlChars: 1_000, maxHtmlTags: 3 };

  it('when the HTML has no more tags and characters than the caps, then it is kept whole', () => {
    expect(cutHtml('<p>one</p><b>two', limits)).toBe('<p>one</p><b>two');
  });

  it('when the HTML has more tags than the cap, then it is cut just before the first tag past it', () => {
    expect(cutHtml('<p>one</p><b>two</b>three', limits)).toBe('<p>one</p><b>two');
  });

  it('when "<" is not followed by a tag name, then it does not count as a tag', () => {
    expect(cutHtml('1 < 2 <p>a</p>< b <i>c', limits)).toBe('1 < 2 <p>a</p>< b <i>c');
  });

  it('when the HTML is longer than the character cap, then it is cut there first', () => {
    expect(cutHtml('x'.repeat(2_000), limits)).toHaveLength(1_000);
  });

  it('when 40,000 tags are nested, then the first 10,000 are kept', () => {
    const nested = `${'<div>'.repeat(40_000)}x${'</div>'.repeat(40_000)}`;
    expect(cutHtml(nested, { maxHtmlChars: 1_000_000, maxHtmlTags: 10_000 })).toBe('<div>'.repeat(10_000));
  });
});
