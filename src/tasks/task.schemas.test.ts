import { demoDepartmentSetup } from '../../scripts/seed-data';
import { updateDepartmentBody } from './task.schemas';

describe('department settings schema', () => {
  it('when the demo departments are checked, then every one passes the PATCH validation', () => {
    for (const setup of Object.values(demoDepartmentSetup)) expect(updateDepartmentBody.safeParse(setup).error).toBeUndefined();
  });

  it('when hours end before they start, a holiday is not a date, an SLA is 0 or a pattern does not compile, then each is named', () => {
    const result = updateDepartmentBody.safeParse({
      businessHours: { weekly: { mon: [{ start: '18:00', end: '09:00' }], tue: [{ start: '9:00', end: '18:00' }] }, holidays: ['2026-02-30'] },
      taskTypes: [{ code: 'claim', name: 'Claim', slaMinutes: 0, fields: [{ key: 'vin', label: 'VIN', pattern: '[A-Z', required: true }, { key: '1x', label: 'Bad' }] }],
    });
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['businessHours.weekly.mon.0.end', 'businessHours.weekly.tue.0.start', 'businessHours.holidays.0', 'taskTypes.0.slaMinutes', 'taskTypes.0.fields.0.pattern', 'taskTypes.0.fields.1.key']),
    );
  });
});
