// How every page names an SLO: its display name with the name beside it, and its labels as chips.
import { h } from './common.js';

/** `team: games`, the way a label reads on a chip and in the filter. */
export const labelText = (key, value) => `${key}: ${value}`;

/**
 * The SLO's display name linked to its page, with its name beside it (or the name alone when it has none);
 * `data-slo` carries the name for whoever reads the row.
 */
export function sloTitle(slo) {
  const href = `/slo/${encodeURIComponent(slo.name)}`;
  const main = slo.display_name ?? slo.name;
  // The description and owner on hover, where a row has no room for them.
  const hint = [slo.description, slo.owner && `owner ${slo.owner}`].filter(Boolean).join(' · ') || undefined;
  return h(
    'span',
    { class: 'slo-title', 'data-slo': slo.name },
    h('a', { href, title: hint }, main),
    slo.display_name ? h('span', { class: 'slo-id mono muted' }, slo.name) : null,
  );
}

/**
 * The SLO's labels as chips, sorted by key. With `onPick`, each chip is a button that picks its label (the
 * overview filters by it).
 */
export function labelChips(labels, onPick) {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return null;
  return h(
    'span',
    { class: 'chips' },
    entries.map(([key, value]) => {
      const text = labelText(key, value);
      if (!onPick) return h('span', { class: 'chip', 'data-label': `${key}:${value}` }, text);
      const chip = h(
        'button',
        { type: 'button', class: 'chip', 'data-label': `${key}:${value}`, title: `Show only ${text}` },
        text,
      );
      chip.addEventListener('click', () => onPick(key, value));
      return chip;
    }),
  );
}

/** The SLO page's line under its title: the name (when a display name is the title), labels, description. */
export function renderSloMeta(container, slo) {
  container.replaceChildren(
    slo.display_name ? h('span', { class: 'slo-id mono muted', 'data-slo': slo.name }, slo.name) : '',
    labelChips(slo.labels) ?? '',
    slo.description ? h('span', { class: 'description' }, ` ${slo.description}`) : '',
  );
}
