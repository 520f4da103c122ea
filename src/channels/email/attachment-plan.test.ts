import { displayFilename, planAttachments, truncate } from './attachment-plan';

describe('attachment planning', () => {
  it('when attachments pass the per-file or total cap, then those are flagged and the rest stored in order', () => {
    expect(planAttachments([5, 20, 5, 5, 0], { perAttachmentBytes: 10, totalBytes: 12 })).toEqual(['store', 'over_attachment_cap', 'store', 'over_total_cap', 'store']);
  });

  it('when a sender names a file with a path or control characters, then only a clean base name is shown', () => {
    expect(displayFilename('../../etc/passwd')).toBe('passwd');
    expect(displayFilename('C:\\Users\\x\\报价单.pdf')).toBe('报价单.pdf');
    expect(displayFilename('a\u0000b\r\n.txt')).toBe('ab.txt');
    expect(displayFilename('dir/')).toBeUndefined();
    expect(displayFilename('x'.repeat(300))).toHaveLength(255);
    expect(displayFilename(undefined)).toBeUndefined();
  });

  it('when text is longer than the limit, then it is cut and says so', () => {
    expect(truncate('abcdef', 3)).toEqual({ text: 'abc', truncated: true });
    expect(truncate('abc', 3)).toEqual({ text: 'abc', truncated: false });
  });
});
