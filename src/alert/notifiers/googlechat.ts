import type { OutgoingRequest } from '../../model/notification.js';
import { type ChatMessage, TONE_HEX } from '../message.js';
import { escapeMarkup } from '../notifier.js';

/**
 * A cardsV2 message. Messages of one alert episode carry its threadKey with
 * messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD, so the escalation and the resolve land in the
 * thread the alert opened (the deprecated `threadKey` query parameter is not used).
 */
export function googleChatPayload(message: ChatMessage): OutgoingRequest {
  const widgets: unknown[] = [
    {
      textParagraph: { text: `<font color="${TONE_HEX[message.tone]}">${escapeMarkup(message.text)}</font>` },
    },
    ...message.fields.map((field) => ({
      decoratedText: { topLabel: escapeMarkup(field.label), text: escapeMarkup(field.value), wrapText: true },
    })),
  ];
  if (message.link) {
    widgets.push({
      buttonList: {
        buttons: [{ text: message.link.label, onClick: { openLink: { url: message.link.url } } }],
      },
    });
  }
  return {
    ...(message.threadKey && { query: { messageReplyOption: 'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD' } }),
    body: {
      cardsV2: [{ cardId: 'sloguard', card: { header: { title: message.title }, sections: [{ widgets }] } }],
      ...(message.threadKey && { thread: { threadKey: message.threadKey } }),
    },
  };
}
