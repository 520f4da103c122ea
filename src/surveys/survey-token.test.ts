import { signSurveyToken, surveyLinkKey, verifySurveyToken } from './survey-token';

const key = surveyLinkKey('a'.repeat(64));
const surveyId = '65f0c0ffee0000000000abcd';

describe('survey link tokens', () => {
  it('when a token was signed with the key, then it verifies to its survey id', () => {
    expect(verifySurveyToken(signSurveyToken(surveyId, key), key)).toBe(surveyId);
  });

  it('when the survey id or the signature is changed, then it does not verify', () => {
    const token = signSurveyToken(surveyId, key);
    const [, signature] = token.split('.');
    expect(verifySurveyToken(`65f0c0ffee0000000000abce.${signature}`, key)).toBeNull();
    const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
    expect(verifySurveyToken(`${surveyId}.${flipped}`, key)).toBeNull();
  });

  it('when a token was signed with another secret, then it does not verify', () => {
    expect(verifySurveyToken(signSurveyToken(surveyId, surveyLinkKey('b'.repeat(64))), key)).toBeNull();
  });

  it('when the token is malformed, then it does not verify', () => {
    for (const token of ['', surveyId, `${surveyId}.`, `${surveyId}.short`, `../${surveyId}.${'A'.repeat(22)}`]) expect(verifySurveyToken(token, key)).toBeNull();
  });
});
