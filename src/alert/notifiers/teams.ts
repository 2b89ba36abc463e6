import type { OutgoingRequest } from '../../model/notification.js';
import type { ChatMessage, Tone } from '../message.js';

/** Adaptive Cards name colours by meaning, not by value. */
const COLOR: Record<Tone, string> = {
  critical: 'Attention',
  warning: 'Warning',
  resolved: 'Good',
  info: 'Accent',
};

/** A Teams workflow ("When a Teams webhook request is received") message carrying one Adaptive Card. */
export function teamsPayload(message: ChatMessage): OutgoingRequest {
  return {
    body: {
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            msteams: { width: 'Full' },
            body: [
              {
                type: 'TextBlock',
                text: message.title,
                size: 'Large',
                weight: 'Bolder',
                color: COLOR[message.tone],
                wrap: true,
              },
              { type: 'TextBlock', text: message.text, wrap: true },
              {
                type: 'FactSet',
                facts: message.fields.map((field) => ({ title: field.label, value: field.value })),
              },
            ],
            actions: message.link
              ? [{ type: 'Action.OpenUrl', title: message.link.label, url: message.link.url }]
              : [],
          },
        },
      ],
    },
  };
}
