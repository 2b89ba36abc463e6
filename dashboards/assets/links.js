// Links out of the dashboard to traces and logs (the breakdown's `links`: configured templates or the Zipkin UI).
import { h } from './common.js';

/** "Traces" and "Logs" links that open in a new tab; nothing for a kind without a link. */
export function linksOut(links, label = '') {
  const out = [];
  for (const [kind, text] of [
    ['traces', 'Traces'],
    ['logs', 'Logs'],
  ]) {
    const url = links?.[kind];
    if (!url) continue;
    out.push(
      h(
        'a',
        {
          class: `link-out ${kind}`,
          href: url,
          rel: 'noopener noreferrer',
          target: '_blank',
          title: `${text}${label ? ` of ${label}` : ''} in this range`,
        },
        text,
      ),
    );
  }
  return out;
}
