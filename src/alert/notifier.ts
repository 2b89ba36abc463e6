import type { OutgoingRequest } from '../model/notification.js';
import type { ChatMessage } from './message.js';

/** Who a payload is for: the target's name (the webhook's "receiver") and sloguard's public URL. */
export interface PayloadContext {
  target: string;
  publicUrl: string;
}

/** A chat kind's pure payload builder. */
export type PayloadBuilder = (message: ChatMessage, context: PayloadContext) => OutgoingRequest;

/** Cuts text to `max` characters, marking the cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Escapes the three characters Slack mrkdwn and Google Chat's HTML subset treat as markup. */
export function escapeMarkup(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
