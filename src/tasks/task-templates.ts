import type { TaskTypeTemplates } from './department.model';

/** What a customer message about a task may say: the reference, title, resolution and department, nothing internal. */
export interface TemplateValues {
  reference: string;
  title: string;
  resolution?: string;
  department: string;
}

export type TemplateKind = keyof Required<TaskTypeTemplates>;

/** Used when a task type has no template of its own. */
export const defaultTemplates: Required<TaskTypeTemplates> = {
  created: 'We have passed your request {reference} ({title}) to our {department} team. We will tell you when it is done.',
  resolved: 'Your request {reference} ({title}) is resolved: {resolution}',
  verification: 'Is it solved? Reply YES or NO.',
};

/** Sent for a comment the department marked customer-visible; not configurable per type (yet). */
export const updateTemplate = 'Update on your request {reference} ({title}): {comment}';

const placeholder = /\{(reference|title|resolution|department|comment)\}/g;

/**
 * Fills `{reference}`, `{title}`, `{resolution}`, `{department}` (and `{comment}`) in one pass, so a
 * value that itself contains braces is never filled again. Unknown placeholders are left as written.
 */
export function fillTemplate(template: string, values: TemplateValues & { comment?: string }): string {
  return template.replace(placeholder, (_match, key: keyof typeof values) => (values[key] ?? '').trim()).trim();
}

/** The type's template of `kind`, or the English default when the type has none (or only blanks). */
export function renderTaskMessage(kind: TemplateKind, templates: TaskTypeTemplates | undefined, values: TemplateValues): string {
  const own = templates?.[kind]?.trim();
  return fillTemplate(own || defaultTemplates[kind], values);
}

/** The email subject for a task message; the channel adds its own thread tag. */
export function taskEmailSubject(kind: TemplateKind | 'update', values: Pick<TemplateValues, 'reference' | 'title'>): string {
  const what = kind === 'created' ? 'received' : kind === 'update' ? 'update' : 'resolved';
  return `Your request ${values.reference} (${values.title}): ${what}`;
}
