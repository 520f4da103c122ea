import type { LinkAnswerOutcome } from './survey.service';

const pages: Record<LinkAnswerOutcome | 'bad_score', { status: number; title: string; message: string }> = {
  recorded: { status: 200, title: 'Thank you!', message: 'Your rating has been recorded. Thank you for helping us improve.' },
  already_answered: { status: 200, title: 'Thank you!', message: 'We already have your rating for this conversation.' },
  expired: { status: 410, title: 'Survey closed', message: 'This survey has closed. Thank you all the same.' },
  invalid: { status: 404, title: 'Link not valid', message: 'This survey link is not valid. Please use the link from our email.' },
  bad_score: { status: 400, title: 'Link not valid', message: 'Please choose a rating from 1 to 5 using the links in our email.' },
};

/** The small page a survey link answers with; its text is fixed, nothing from the request is echoed. */
export function surveyPage(outcome: LinkAnswerOutcome | 'bad_score'): { status: number; html: string } {
  const page = pages[outcome];
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${page.title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222;text-align:center}h1{font-size:1.6rem}</style>
</head><body><h1>${page.title}</h1><p>${page.message}</p></body></html>`;
  return { status: page.status, html };
}
