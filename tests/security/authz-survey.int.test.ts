import { Types } from 'mongoose';
import { signSurveyToken, surveyLinkKey } from '../../src/surveys/survey-token';
import { startTestApp, type TestApp } from '../support/test-app';

/** Issue 12: survey links recorded an answer on GET, and mail scanners prefetch every link. */
describe('CSAT survey links: GET shows, POST records', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ PUBLIC_BASE_URL: 'http://127.0.0.1' }, { routing: false });
  });
  afterAll(() => app.destroy());

  /** A sent (pending) email survey on a real interaction, and its signed link path. */
  const pendingSurvey = async () => {
    const customerId = new Types.ObjectId().toHexString();
    const interaction = await app.services.interactions.createInteraction({ customerId, channel: 'email', direction: 'inbound', status: 'closed' });
    const now = Date.now();
    await app.mongo.collection('csat_surveys').insertOne({
      _id: interaction.id as never, customerId, channel: 'email', contactChannel: 'email', status: 'pending',
      dueAt: new Date(now - 60_000), sentAt: new Date(now - 30_000), expiresAt: new Date(now + 86_400_000), createdAt: new Date(now - 60_000),
    });
    const token = signSurveyToken(interaction.id, surveyLinkKey(app.config.AUTH_TOKEN_SECRET!));
    return { interactionId: interaction.id, path: `/csat/${token}` };
  };
  const survey = (id: string) => app.mongo.collection('csat_surveys').findOne({ _id: id as never });

  it('when a mail scanner fetches all five links, then nothing is recorded and each page shows its choice with a confirm form that POSTs', async () => {
    const { interactionId, path } = await pendingSurvey();
    for (const score of [1, 2, 3, 4, 5]) {
      const response = await fetch(`${app.url}${path}?score=${score}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const html = await response.text();
      expect(html).toMatch(/<form method="post"/);
      expect(html).toContain(`name="score" value="${score}"`);
      expect(html).toContain(`${score} of 5`);
    }
    expect(await survey(interactionId)).toMatchObject({ status: 'pending' });
    expect((await app.services.interactions.getInteraction(interactionId)).entries?.some((entry) => entry.data?.event === 'csat_answered')).toBe(false);
  });

  it('when the customer confirms with POST, then the answer is recorded once; a second POST keeps the first', async () => {
    const { interactionId, path } = await pendingSurvey();
    const post = (score: string) => fetch(`${app.url}${path}?score=${score}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `score=${score}` });
    const confirmed = await post('4');
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('Thank you');
    expect(await survey(interactionId)).toMatchObject({ status: 'answered', score: 4, answeredVia: 'link' });
    const again = await post('1');
    expect(await again.text()).toContain('already have your rating');
    expect(await survey(interactionId)).toMatchObject({ score: 4 });
  });

  it('when the link is forged or the score is out of range, then GET and POST answer with the error page and record nothing', async () => {
    const { interactionId, path } = await pendingSurvey();
    const forged = path.replace(/.{2}$/, (tail) => (tail === 'AA' ? 'BB' : 'AA'));
    expect((await fetch(`${app.url}${forged}?score=3`)).status).toBe(404);
    expect((await fetch(`${app.url}${forged}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'score=3' })).status).toBe(404);
    expect((await fetch(`${app.url}${path}?score=9`)).status).toBe(400);
    expect((await fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'score=9' })).status).toBe(400);
    expect(await survey(interactionId)).toMatchObject({ status: 'pending' });
  });
});
