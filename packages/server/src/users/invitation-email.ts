import type { MailMessage } from '../mail/mailer.js';

/** The invitation as the invitee reads it. */
export function invitationEmail(input: {
  to: string;
  inviterName: string;
  workspaceName: string;
  role: string;
  link: string;
  expiresAt: string;
}): MailMessage {
  const expires = new Date(input.expiresAt).toUTCString().replace(' GMT', ' UTC');
  return {
    to: input.to,
    subject: `${input.inviterName} invited you to ${input.workspaceName} on Waymark`,
    text: [
      `${input.inviterName} invited you to join ${input.workspaceName} on Waymark as ${articled(input.role)}.`,
      '',
      'Choose your name and password here:',
      input.link,
      '',
      `The link works once and expires on ${expires}.`,
      'If you did not expect this invitation, you can ignore this email.',
    ].join('\n'),
  };
}

const articled = (role: string) =>
  role === 'admin' ? 'an admin' : `a ${role === 'csm' ? 'CSM' : role}`;
