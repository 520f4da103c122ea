import { Router } from 'express';
import { z } from 'zod';
import type { RouteRegistry } from '../platform/http/route';
import { surveyPage } from './survey-page';
import type { SurveyService } from './survey.service';

/** `GET /csat/:token?score=N`: the public link in a survey email; answers with a small HTML page. */
export function surveyRoutes(registry: RouteRegistry, surveys: SurveyService): Router {
  const router = Router();
  registry.add(
    router,
    {
      method: 'get',
      path: '/csat/:token',
      summary: 'Answer a CSAT survey from its emailed link (HTML page)',
      tag: 'Surveys',
      access: 'public',
      params: z.object({ token: z.string().max(100) }),
      // Checked below rather than here, so a mangled link gets the HTML page, not a JSON error.
      query: z.object({ score: z.string().max(8).optional().describe('1 (poor) to 5 (excellent)') }),
    },
    async ({ params, query }, res) => {
      const score = /^[1-5]$/.test(query.score ?? '') ? Number(query.score) : null;
      const page = surveyPage(score === null ? 'bad_score' : await surveys.answerByLink(params.token, score));
      // Link checkers in mail systems must not cache or index the answer.
      res.status(page.status).set('cache-control', 'no-store').type('html').send(page.html);
    },
  );
  return router;
}
