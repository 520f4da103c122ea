import { csvLine } from './report-columns';

const cells = (line: string) => line.replace(/\r\n$/, '');

describe('CSV cells (formula neutralisation, OWASP CSV injection)', () => {
  it.each([
    ['=HYPERLINK("http://evil.example","x")', `"'=HYPERLINK(""http://evil.example"",""x"")"`],
    ['+cmd|calc', "'+cmd|calc"],
    ['-2+3+cmd|calc', "'-2+3+cmd|calc"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\t=1', "'\t=1"],
    ['\r=1', `"'\r=1"`],
  ])('when a text cell starts with a formula character (%j), then it gets a leading quote', (value, expected) => {
    expect(cells(csvLine([value]))).toBe(expected);
  });

  it('when a cell is a number, negative or not, then it stays a number', () => {
    expect(cells(csvLine([-12.5, 0, 42, -0.25]))).toBe('-12.5,0,42,-0.25');
  });

  it('when a text cell is a plain number (a phone number, a signed figure), then it is not a formula and stays as it is', () => {
    expect(cells(csvLine(['+8613800138000', '-3', '1.5e3']))).toBe('+8613800138000,-3,1.5e3');
  });

  it('when a cell is ordinary text, null or has commas and quotes, then it is written as before', () => {
    expect(cells(csvLine(['sales', null, 'a,b', 'say "hi"']))).toBe('sales,—,"a,b","say ""hi"""');
  });
});
