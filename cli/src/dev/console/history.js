// The history list: the console's calls, newest first, each a <details> with the exact
// request (with its signature header) and answer, its own "Send again", "Load into
// form" and "Copy as ...". Which entries are open is kept in
// `view.openHistory` (the page's state, owned by main.js) across re-renders.

import { $, el, jsonFigure, latency, preserveFocus, time } from './dom.js';
import { isObject } from './schema.js';
import { copyButtons, isConfirmation } from './answer.js';

/**
 * Renders the entries of `/console/api/history`; `onResend(id)` sends one again,
 * `onLoad(entry)` puts its tool, arguments and caller into the call form.
 */
export function renderHistory(view, entries, onResend, onLoad) {
  $('history-empty').hidden = entries.length > 0;
  preserveFocus($('history-list'), () => {
    $('history-list').replaceChildren(...entries.map((entry) => historyItem(view, entry, onResend, onLoad)));
  });
}

/** The outcome of an entry in words. */
function entryOutcome(entry) {
  if (entry.error) return 'no answer';
  if (isObject(entry.answer) && entry.answer.success === true) {
    return isConfirmation(entry.answer.result) ? 'asks for confirmation' : 'succeeded';
  }
  return 'failed';
}

function historyItem(view, entry, onResend, onLoad) {
  const details = el('details', {
    class: 'history-entry',
    ontoggle: () => (details.open ? view.openHistory.add(entry.id) : view.openHistory.delete(entry.id)),
  });
  details.open = view.openHistory.has(entry.id);
  const word = entryOutcome(entry);
  const status = entry.status === null || entry.status === undefined ? 'no status' : `HTTP ${entry.status}`;
  details.append(
    el('summary', {},
      el('span', { class: 'entry-id', text: `#${entry.id}` }), ' ',
      el('span', { text: `${time(entry.at_ms)} ${entry.action} ${entry.tool_name}` }), ' ',
      el('span', { class: `badge ${word === 'failed' || word === 'no answer' ? 'badge-failure' : 'badge-success'}`, text: word }), ' ',
      el('span', { class: 'meta', text: `${status} · ${latency(entry.latency_ms)}` })),
    el('dl', { class: 'facts' },
      el('dt', { text: 'Endpoint' }), el('dd', { text: entry.endpoint_url }),
      el('dt', { text: 'Call id' }), el('dd', { text: entry.call_id }),
      entry.resent_of != null ? [el('dt', { text: 'Re-sent of' }), el('dd', { text: `#${entry.resent_of}` })] : null,
      entry.of != null ? [el('dt', { text: 'Confirmation of' }), el('dd', { text: `#${entry.of}` })] : null,
      entry.error ? [el('dt', { text: 'Error' }), el('dd', { text: entry.error })] : null,
      el('dt', { text: 'X-Pillar-Signature' }), el('dd', { class: 'signature', text: entry.signature || '(none)' })),
    jsonFigure(`Request #${entry.id}`, entry.sent),
    jsonFigure(`Answer #${entry.id}`, entry.answer === null ? undefined : entry.answer),
    el('div', { class: 'actions-row' },
      el('button', {
        type: 'button', class: 'secondary small', 'aria-label': `Send again #${entry.id}`,
        'data-focus-key': `history-send-${entry.id}`, onclick: () => onResend(entry.id),
      }, 'Send again'),
      el('button', {
        type: 'button', class: 'secondary small', 'aria-label': `Load #${entry.id} into the form`,
        'data-focus-key': `history-load-${entry.id}`, onclick: () => onLoad(entry),
      }, 'Load into form'),
      copyButtons(entry, 'history')));
  return el('li', {}, details);
}
