import { checkRawLimits, readTopHeaderLines } from './raw-limits';

const limits = { maxHeaders: 5, maxHeaderBytes: 500, maxParts: 3, maxLines: 100 };

function multipart(parts: number): Buffer {
  const body = Array.from({ length: parts }, (_, index) => `--b1\r\nContent-Type: text/plain\r\n\r\npart ${index}\r\n`).join('');
  return Buffer.from(`Subject: x\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n${body}--b1--\r\n`);
}

describe('raw email limits', () => {
  it('when a message is within every cap, then no flag is raised', () => {
    expect(checkRawLimits(multipart(2), limits)).toEqual([]);
  });

  it('when a message has more MIME parts than the cap, then it is flagged too_many_parts', () => {
    expect(checkRawLimits(multipart(4), limits)).toEqual(['too_many_parts']);
  });

  it('when the top header block has too many fields or bytes, then it is flagged', () => {
    const many = Buffer.from(`${Array.from({ length: 6 }, (_, index) => `X-H${index}: v`).join('\r\n')}\r\n\r\nbody`);
    expect(checkRawLimits(many, limits)).toEqual(['too_many_headers']);
    const folded = Buffer.from(`Subject: a\r\n${' folded\r\n'.repeat(60)}\r\nbody`);
    expect(checkRawLimits(folded, limits)).toEqual(['headers_too_large']);
  });

  it('when a message has more lines than the cap, then it is flagged too_many_lines', () => {
    expect(checkRawLimits(Buffer.from(`Subject: x\r\n\r\n${'a\r\n'.repeat(200)}`), limits)).toEqual(['too_many_lines']);
  });

  it('when the header block is read without a parser, then folded lines are joined and keys lower-cased', () => {
    const lines = readTopHeaderLines(Buffer.from('Message-ID:\r\n <a@b>\r\nSubject: hi\r\n\r\nX-Not: a header\r\n'));
    expect(lines).toEqual([{ key: 'message-id', line: 'Message-ID:\r\n <a@b>' }, { key: 'subject', line: 'Subject: hi' }]);
  });
});

describe('raw email limits at scale', () => {
  it('when a 2 MB message has 100k short lines, then the scan stays linear (well under a second)', () => {
    const raw = Buffer.from(`Subject: x\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\n${'<p>hello <b>world</b></p>\r\n'.repeat(100_000)}--b--\r\n`);
    const started = performance.now();
    expect(checkRawLimits(raw)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
