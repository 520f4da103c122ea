import type { LinkAnswerOutcome } from './survey.service';

const pages: Record<LinkAnswerOutcome | 'bad_score', { status: number; title: string; message: string }> = {
  recorded: { status: 200, title: 'Thank you!', message: 'Your rating has been recorded. Thank you for helping us improve.' },
  already_answered: { status: 200, title: 'Thank you!', message: 'We already have your rating for this conversation.' },
  expired: { status: 410, title: 'Survey closed', message: 'This survey has closed. Thank you all the same.' },
  invalid: { status: 404, title: 'Link not valid', message: 'This survey link is not valid. Please use the link from our email.' },
  bad_score: { status: 400, title: 'Link not valid', message: 'Please choose a rating from 1 to 5 using the links in our email.' },
};

const scoreWords = ['', 'poor', 'fair', 'good', 'very good', 'excellent'];

function document(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222;text-align:center}h1{font-size:1.6rem}button{font:inherit;padding:.6rem 1.4rem;border-radius:.4rem;border:1px solid #0b5;background:#0b5;color:#fff;cursor:pointer}</style>
</head><body>${body}</body></html>`;
}

/** The small page a survey link answers with; its text is fixed, nothing from the request is echoed. */
export function surveyPage(outcome: LinkAnswerOutcome | 'bad_score'): { status: number; html: string } {
  const page = pages[outcome];
  return { status: page.status, html: document(page.title, `<h1>${page.title}</h1><p>${page.message}</p>`) };
}

/**
 * What opening a link shows: the chosen rating and a button that sends it. Only that POST records,
 * so a mail scanner fetching all five links answers nothing. The form posts to the same URL (no
 * action attribute), so the token is never echoed; `score` is an integer 1..5 checked by the caller.
 */
export function surveyConfirmPage(score: number): { status: number; html: string } {
  const title = 'Confirm your rating';
  return {
    status: 200,
    html: document(title, `<h1>${title}</h1><p>You chose <strong>${score} of 5</strong> (${scoreWords[score]}).</p>
<form method="post"><input type="hidden" name="score" value="${score}"><button type="submit">Send my rating</button></form>
<p><small>Changed your mind? Use another link from our email.</small></p>`),
  };
}
