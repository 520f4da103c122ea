import { classifyKeyword } from './sms-keywords';

describe('classifyKeyword', () => {
  it.each(['STOP', 'stop', ' Stop.', 'stop please', 'STOPALL', 'unsubscribe', 'Cancel!', 'end', 'quit', 'REVOKE', 'optout', '\n\tStop!!! \n', 'Stop, thanks', '"STOP"', 'ＳＴＯＰ'])(
    'when the text is %j, then it is an opt-out',
    (body) => expect(classifyKeyword(body)).toBe('opt_out'),
  );

  it.each(['START', 'start', ' Unstop ', 'yes', 'Yes!'])('when the text is %j, then it is an opt-in', (body) => expect(classifyKeyword(body)).toBe('opt_in'));

  it.each(['HELP', 'help', ' Help? '])('when the text is %j, then it asks for help', (body) => expect(classifyKeyword(body)).toBe('help'));

  it.each(['', '   ', undefined, "don't stop", 'stopping by later', 'yes see you tomorrow', 'help my car broke down', 'STOP'.padStart(6, 'x'), 'Hello', 'start the car please'])(
    'when the text is %j, then it is an ordinary message',
    (body) => expect(classifyKeyword(body)).toBeNull(),
  );
});
