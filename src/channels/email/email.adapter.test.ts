import { createEmailSender, EmailSendError } from './email.adapter';

describe('the nodemailer adapter', () => {
  it('when SMTP_OUT_URL is not set, then sending fails permanently with a message naming the setting', async () => {
    const sender = createEmailSender(undefined);
    const sending = sender.send({ envelopeFrom: 's@x.cn', from: { address: 's@x.cn' }, replyTo: 's@x.cn', to: 'c@x.cn', subject: 's', text: 't', messageId: '<1@x.cn>', automatic: false });
    await expect(sending).rejects.toBeInstanceOf(EmailSendError);
    await expect(sending).rejects.toMatchObject({ permanent: true, message: expect.stringContaining('SMTP_OUT_URL') });
  });
});
