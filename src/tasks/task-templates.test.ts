import { defaultTemplates, fillTemplate, renderTaskMessage, taskEmailSubject } from './task-templates';

const values = { reference: 'T-000123', title: 'Brake noise', resolution: 'Pads replaced under warranty', department: 'Warranty claims' };

describe('task templates', () => {
  it('when a type has its own template, then every placeholder is filled', () => {
    const text = renderTaskMessage('resolved', { resolved: '{department}: {reference} "{title}" done – {resolution}.' }, values);
    expect(text).toBe('Warranty claims: T-000123 "Brake noise" done – Pads replaced under warranty.');
  });

  it('when a type has no template (or a blank one), then the English default is used with the reference', () => {
    expect(renderTaskMessage('resolved', {}, values)).toBe('Your request T-000123 (Brake noise) is resolved: Pads replaced under warranty');
    expect(renderTaskMessage('resolved', { resolved: '   ' }, values)).toBe(renderTaskMessage('resolved', undefined, values));
    expect(renderTaskMessage('created', undefined, values)).toContain('T-000123');
    expect(renderTaskMessage('verification', undefined, values)).toBe(defaultTemplates.verification);
  });

  it('when a value contains placeholder text, then it is not filled a second time', () => {
    expect(fillTemplate('{title} / {resolution}', { ...values, title: '{resolution}' })).toBe('{resolution} / Pads replaced under warranty');
  });

  it('when a template names an unknown placeholder or a value is missing, then the unknown one stays and the missing one is empty', () => {
    expect(fillTemplate('{reference} {vin} [{resolution}]', { reference: 'T-1', title: 't', department: 'd' })).toBe('T-1 {vin} []');
  });

  it('when an email subject is built, then it carries the reference and says what happened', () => {
    expect(taskEmailSubject('resolved', values)).toBe('Your request T-000123 (Brake noise): resolved');
    expect(taskEmailSubject('update', values)).toMatch(/T-000123.*update/);
  });
});
