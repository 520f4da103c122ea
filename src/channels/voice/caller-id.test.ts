import { classifyCaller } from './caller-id';

describe('caller ids', () => {
  it('when the caller id is a dialable number, then it is normalized to E.164', () => {
    expect(classifyCaller('+86 138 0013 8000', 'CN')).toEqual({ kind: 'phone', phone: '+8613800138000' });
  });

  it.each([['anonymous'], ['Restricted'], ['+266696687'], [''], ['client:agent-1'], ['12345'], ['not a number!']])(
    'when the caller id is %p, then it is withheld and kept as given',
    (from) => {
      expect(classifyCaller(from, 'CN')).toEqual({ kind: 'withheld', raw: from.trim() });
    },
  );
});
