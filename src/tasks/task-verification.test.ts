import { firstLine, parseVerdict, quotedReferences } from './task-verification';

describe('customer answers to "is it solved?"', () => {
  it.each(['YES', ' yes ', 'Y', 'y.', '是', '好', 'Yes!'])('when the customer writes %j, then it counts as solved', (text) => {
    expect(parseVerdict(text)).toBe(true);
  });

  it.each(['NO', 'no', ' N ', '否', '没有'])('when the customer writes %j, then it counts as not solved', (text) => {
    expect(parseVerdict(text)).toBe(false);
  });

  it.each(['4', 'yes, but the noise is back', 'nope', '', 'STOP'])('when the customer writes %j, then it is no answer (a survey score or a message for an agent)', (text) => {
    expect(parseVerdict(text)).toBeNull();
  });

  it('when an email reply starts with blank lines, then its first written line is the answer', () => {
    expect(parseVerdict(firstLine('\n\n  No \nit still squeaks'))).toBe(false);
  });

  it('when a text quotes task references, then each is found once, in any case', () => {
    expect(quotedReferences('about t-000123 and T-000123, also T-000045; not T-12')).toEqual(['T-000123', 'T-000045']);
    expect(quotedReferences(Array.from({ length: 5_000 }, (_, index) => `T-${String(index).padStart(6, '0')}`).join(' '))).toHaveLength(5);
  });
});
