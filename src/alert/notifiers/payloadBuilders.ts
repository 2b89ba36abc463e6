import type { TargetKind } from '../../config/notifications.js';
import type { PayloadBuilder } from '../notifier.js';
import { alertmanagerPayload } from './alertmanager.js';
import { discordPayload } from './discord.js';
import { googleChatPayload } from './googlechat.js';
import { slackPayload } from './slack.js';
import { teamsPayload } from './teams.js';
import { webhookPayload } from './webhook.js';

/** The payload builder of each target kind. */
export const PAYLOAD_BUILDERS: Record<TargetKind, PayloadBuilder> = {
  slack: slackPayload,
  teams: teamsPayload,
  googlechat: googleChatPayload,
  discord: discordPayload,
  webhook: webhookPayload,
  alertmanager: alertmanagerPayload,
};
