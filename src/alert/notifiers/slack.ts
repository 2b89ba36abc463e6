import type { OutgoingRequest } from '../../model/notification.js';
import { type ChatMessage, TONE_HEX } from '../message.js';
import { escapeMarkup, truncate } from '../notifier.js';

/** Block Kit limits: header 150 characters, section text 3000, field text 2000, 10 fields a section, 50 blocks. */
const HEADER_MAX = 150;
const TEXT_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_PER_SECTION = 10;
const MAX_BLOCKS = 50;

/**
 * An incoming-webhook message: Block Kit header, summary, fields and a dashboard button, inside a legacy
 * attachment because only attachments carry a colour bar.
 */
export function slackPayload(message: ChatMessage): OutgoingRequest {
  const fieldSections = [];
  for (let i = 0; i < message.fields.length; i += FIELDS_PER_SECTION) {
    fieldSections.push({
      type: 'section',
      fields: message.fields.slice(i, i + FIELDS_PER_SECTION).map((field) => ({
        type: 'mrkdwn',
        text: truncate(`*${escapeMarkup(field.label)}*\n${escapeMarkup(field.value)}`, FIELD_MAX),
      })),
    });
  }
  const fixed = 2 + (message.link ? 1 : 0);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(message.title, HEADER_MAX), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(escapeMarkup(message.text), TEXT_MAX) } },
    ...fieldSections.slice(0, MAX_BLOCKS - fixed),
  ];
  if (message.link) {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: message.link.label }, url: message.link.url },
      ],
    });
  }
  return {
    body: {
      // The notification and screen-reader text; the blocks are what people see.
      text: message.title,
      attachments: [{ color: TONE_HEX[message.tone], blocks }],
    },
  };
}
