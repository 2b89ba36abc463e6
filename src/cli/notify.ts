import { sendTestMessage } from '../alert/alerting.js';
import type { Config } from '../config/config.js';
import { EXIT } from './exitCodes.js';

/**
 * `sloguard notify test TARGET`: sends one test message to a configured target now and reports the
 * answer. Exit 0 when delivered, 1 when it was not, 64 for a target the config does not name.
 */
export async function runNotifyTest(
  config: Pick<Config, 'publicUrl' | 'notifications'>,
  targetName: string,
  print: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  const delivery = sendTestMessage(config, targetName);
  if (!delivery) {
    const known = [...config.notifications.targets.keys()].join(', ') || 'none configured';
    print.err(`no notification target named "${targetName}" (targets: ${known})`);
    return EXIT.usage;
  }
  const result = await delivery;
  if (result.outcome === 'delivered') {
    print.out(`sent a test message to ${targetName} (HTTP ${result.status})`);
    return EXIT.ok;
  }
  print.err(`test message to ${targetName} failed: ${result.reason}`);
  return EXIT.invalid;
}
