/**
 * The automatic "we received your message" email. Plain text on purpose: it quotes nothing the
 * customer wrote (an autoresponder that echoes input is a spam relay), only the case reference.
 */
export function acknowledgementEmail(input: { ref: string }): { subject: string; text: string } {
  return {
    // The [#ref] tag is added when the email is sent, like on every email of the thread.
    subject: 'We received your message',
    text: [
      'Hello,',
      '',
      `We received your message, ref #${input.ref}. Our team will answer you as soon as possible.`,
      `To add anything, reply to this email and keep [#${input.ref}] in the subject.`,
      '',
      'This is an automatic message.',
    ].join('\n'),
  };
}
