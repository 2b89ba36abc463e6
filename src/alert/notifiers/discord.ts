import type { OutgoingRequest } from '../../model/notification.js';
import { type ChatMessage, TONE_HEX } from '../message.js';
import { truncate } from '../notifier.js';

/** Discord's embed limits (characters, fields). */
export const DISCORD_LIMITS = {
  title: 256,
  description: 4096,
  fieldName: 256,
  fieldValue: 1024,
  fields: 25,
  footer: 2048,
  total: 6000,
} as const;

const FOOTER = 'sloguard';

interface EmbedField {
  name: string;
  value: string;
  inline: boolean;
}

/**
 * A webhook message with one embed, cut to Discord's limits instead of being refused: each part to its own
 * limit, fields past 25 summed up in the last, and fields dropped from the end while the embed's total
 * (title, description, fields, footer) exceeds 6000. Mentions are disabled: an SLO name is not a ping.
 */
export function discordPayload(message: ChatMessage): OutgoingRequest {
  const title = truncate(message.title, DISCORD_LIMITS.title);
  const description = truncate(message.text, DISCORD_LIMITS.description);
  let fields: EmbedField[] = message.fields.map((field) => ({
    name: truncate(field.label, DISCORD_LIMITS.fieldName),
    value: truncate(field.value, DISCORD_LIMITS.fieldValue) || '-',
    inline: field.value.length <= 40,
  }));
  if (fields.length > DISCORD_LIMITS.fields) {
    const hidden = fields.length - (DISCORD_LIMITS.fields - 1);
    fields = [
      ...fields.slice(0, DISCORD_LIMITS.fields - 1),
      { name: '…', value: `${hidden} more not shown`, inline: false },
    ];
  }
  const size = () =>
    title.length +
    description.length +
    FOOTER.length +
    fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  while (size() > DISCORD_LIMITS.total && fields.length > 0) fields = fields.slice(0, -1);
  return {
    body: {
      allowed_mentions: { parse: [] },
      embeds: [
        {
          title,
          description,
          ...(message.link && { url: message.link.url }),
          color: Number.parseInt(TONE_HEX[message.tone].slice(1), 16),
          fields,
          footer: { text: FOOTER },
          timestamp: new Date(message.atMs).toISOString(),
        },
      ],
    },
  };
}
