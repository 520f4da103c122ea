import { Router, type Response } from 'express';
import { z } from 'zod';
import type { RouteRegistry } from '../platform/http/route';
import { surveyConfirmPage, surveyPage } from './survey-page';
import type { SurveyService } from './survey.service';

const tokenParams = z.object({ token: z.string().max(100) });
// Checked by hand rather than by the schema, so a mangled link gets the HTML page, not a JSON error.
const scoreQuery = z.object({ score: z.string().max(8).optional().describe('1 (poor) to 5 (excellent)') });
const scoreBody = z.object({ score: z.unknown().optional().describe('1 (poor) to 5 (excellent), from the confirm form') }).loose();

const scoreOf = (raw: unknown): number | null => (typeof raw === 'string' && /^[1-5]$/.test(raw) ? Number(raw) : null);

function send(res: Response, page: { status: number; html: string }): void {
  // Link checkers in mail systems must not cache or index the page.
  res.status(page.status).set('cache-control', 'no-store').type('html').send(page.html);
}

/**
 * The public links in a survey email. `GET /csat/:token?score=N` only shows the choice with a
 * confirm button (mail scanners prefetch every link); `POST /csat/:token` (the form) records it.
 */
export function surveyRoutes(registry: RouteRegistry, surveys: SurveyService): Router {
  const router = Router();
  registry.add(
    router,
    { method: 'get', path: '/csat/:token', summary: 'Open a CSAT survey link: shows the chosen rating with a confirm button (records nothing)', tag: 'Surveys', access: 'public', params: tokenParams, query: scoreQuery },
    async ({ params, query }, res) => {
      const score = scoreOf(query.score);
      if (score === null) return send(res, surveyPage('bad_score'));
      const outcome = await surveys.checkLink(params.token);
      send(res, outcome === 'open' ? surveyConfirmPage(score) : surveyPage(outcome));
    },
  );
  registry.add(
    router,
    { method: 'post', path: '/csat/:token', summary: 'Answer a CSAT survey (the confirm form of the emailed link; HTML page)', tag: 'Surveys', access: 'public', params: tokenParams, body: scoreBody },
    async ({ params, body }, res) => {
      const score = scoreOf(body.score);
      send(res, score === null ? surveyPage('bad_score') : surveyPage(await surveys.answerByLink(params.token, score)));
    },
  );
  return router;
}
