// The answer region: the outcome of the latest call, the confirmation card and the
// display hints as Pillar would render them, "Send again", the answer and request JSON.
//
// It reads and writes `view.latest` and `view.cardDismissed` of the page's state (owned
// by main.js) and sends nothing itself: `actions` {confirm(entry, result), resend(id)}
// are main.js's.

import { $, el, jsonFigure, latency, preserveFocus, uid } from './dom.js';
import { has, isObject, valueText } from './schema.js';
import { callerOf } from './editors.js';
import { curlCommand, pillarCallCommand } from './commands.js';

export const isConfirmation = (r) => isObject(r) && r.confirmation_required === true;
const isHints = (r) => isObject(r) && typeof r.summary === 'string';

/** Shows a history entry the console answered; focuses Confirm, or the region. */
export function showEntry(view, entry, focusAnswer, actions) {
  view.latest = entry;
  view.cardDismissed = false;
  renderAnswer(view, actions);
  const confirmButton = $('answer-body').querySelector('[data-focus-key="confirm"]');
  if (confirmButton) confirmButton.focus();
  else if (focusAnswer) $('answer-heading').focus();
}

/** The console itself refused the request (bad request, unknown entry...). */
export function showRefusal(view, error) {
  view.latest = null;
  $('answer').hidden = false;
  $('answer-body').replaceChildren(
    outcome(false, 'Not sent'),
    el('p', { class: 'error-text', text: error.message }),
    error.code ? el('p', { class: 'meta', text: `The console answered ${error.status ? `HTTP ${error.status}` : 'nothing'} (${error.code}).` }) : null);
}

/**
 * The `/console/api/confirm` body of a user's Confirm on `entry`'s card: the card's
 * payload (or the call's arguments), the call's caller (`fallbackCaller` if it had none)
 * and conversation.
 */
export function confirmRequest(entry, result, fallbackCaller) {
  const sent = isObject(entry.sent) ? entry.sent : {};
  const payload = has(result, 'confirm_payload') && result.confirm_payload !== null
    ? result.confirm_payload
    : sent.arguments || {};
  const body = {
    endpoint_url: entry.endpoint_url,
    tool_name: entry.tool_name,
    confirm_payload: payload,
    caller: callerOf(sent.caller, fallbackCaller),
    of: entry.id,
  };
  if (typeof sent.conversation_id === 'string' && sent.conversation_id) body.conversation_id = sent.conversation_id;
  return body;
}

/** "Succeeded" or "Failed", in words and an icon, not colour alone. */
function outcome(success, text) {
  return el('p', { class: `outcome ${success ? 'outcome-success' : 'outcome-failure'}` },
    el('span', { class: 'outcome-icon', 'aria-hidden': 'true', text: success ? '✓' : '✗' }),
    el('span', { class: 'outcome-text', text }));
}

function renderAnswer(view, actions) {
  $('answer').hidden = false;
  preserveFocus($('answer-body'), () => {
    $('answer-body').replaceChildren(...answerParts(view, view.latest, actions));
  });
}

function answerParts(view, entry, actions) {
  const answer = entry.answer;
  const parts = [];
  if (entry.error) {
    parts.push(outcome(false, 'No answer'), el('p', { class: 'error-text', text: entry.error }));
  } else if (isObject(answer) && answer.success === true) {
    parts.push(outcome(true, 'Succeeded'));
  } else if (isObject(answer) && answer.success === false) {
    parts.push(outcome(false, 'Failed'), el('p', { class: 'error-text', text: valueText(answer.error) }));
  } else {
    parts.push(outcome(false, 'Not a Pillar answer'));
  }
  parts.push(el('p', { class: 'meta' },
    el('span', { text: `#${entry.id}` }), ' · ',
    el('span', { text: `${entry.action} ${entry.tool_name}` }), ' · ',
    el('span', { text: entry.status === null || entry.status === undefined ? 'no HTTP status' : `HTTP ${entry.status}` }), ' · ',
    el('span', { text: latency(entry.latency_ms) }), ' · ',
    el('span', { text: `call ${entry.call_id}` })));
  if (entry.resent_of !== null && entry.resent_of !== undefined) {
    parts.push(el('p', { class: 'note', text: `Re-sent of #${entry.resent_of}: the same body and call id, signed again.` }));
  }
  if (entry.of !== null && entry.of !== undefined) {
    parts.push(el('p', { class: 'note', text: `Confirmation of #${entry.of}.` }));
  }
  const result = isObject(answer) && answer.success === true ? answer.result : undefined;
  if (isConfirmation(result)) {
    parts.push(view.cardDismissed
      ? el('p', { class: 'note', text: 'Cancelled: nothing was sent.' })
      : renderCard(view, entry, result, actions));
  } else if (isHints(result)) {
    parts.push(renderHints(result));
  }
  parts.push(el('div', { class: 'actions-row' },
    el('button', { type: 'button', class: 'secondary', 'data-focus-key': 'send-again', onclick: () => actions.resend(entry.id) }, 'Send again'),
    copyButtons(entry, 'answer')));
  parts.push(jsonFigure('Answer JSON', answer === null ? undefined : answer));
  parts.push(requestSent(entry));
  return parts;
}

/** The request as the server received it: URL, headers (the signature too), body, and as command lines. */
export function requestSent(entry) {
  const call = pillarCallCommand(entry.endpoint_url, entry.sent);
  return el('details', { class: 'sent' }, el('summary', { text: 'Request sent' }),
    el('p', { class: 'meta', text: `POST ${entry.endpoint_url}` }),
    el('dl', { class: 'facts headers', 'aria-label': 'Request headers' },
      el('dt', { text: 'Content-Type' }), el('dd', { text: 'application/json' }),
      el('dt', { text: 'X-Pillar-Signature' }), el('dd', { class: 'signature', text: entry.signature || '(none)' })),
    el('p', { class: 'hint', text: 'The signature covers this body only and expires 300 s after its t=; the secret stays in pillar dev.' }),
    jsonFigure('Request JSON', entry.sent),
    el('figure', { class: 'json-figure' }, el('figcaption', { text: 'As pillar call' }), el('pre', { text: call.command })),
    call.omitted.length ? el('p', { class: 'hint', text: `pillar call has no option for ${call.omitted.join(', ')}: the curl lines send it.` }) : null,
    el('figure', { class: 'json-figure' }, el('figcaption', { text: 'As curl' }), el('pre', { text: curlCommand(entry.endpoint_url, entry.sent) })),
    el('p', { class: 'hint', text: 'Both read the secret from PILLAR_SECRET (export the one pillar dev printed); curl sends this body as is, call id included.' }));
}

/** "Copy as pillar call" and "Copy as curl" for `entry`, with a status line saying what happened. */
export function copyButtons(entry, keyPrefix) {
  const status = el('span', { class: 'copy-status meta', role: 'status' });
  const copy = async (what, text) => {
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = `Copied ${what} of #${entry.id}.`;
    } catch (_) {
      status.textContent = `Could not copy (the browser refused the clipboard): the lines are under "Request sent".`;
    }
  };
  const label = (what) => `Copy #${entry.id} as ${what}`;
  return el('span', { class: 'copy-buttons' },
    el('button', { type: 'button', class: 'secondary small', 'aria-label': label('pillar call'), 'data-focus-key': `${keyPrefix}-copy-call-${entry.id}`,
      onclick: () => copy('the pillar call line', pillarCallCommand(entry.endpoint_url, entry.sent).command) }, 'Copy as pillar call'),
    el('button', { type: 'button', class: 'secondary small', 'aria-label': label('curl'), 'data-focus-key': `${keyPrefix}-copy-curl-${entry.id}`,
      onclick: () => copy('the curl lines', curlCommand(entry.endpoint_url, entry.sent)) }, 'Copy as curl'),
    status);
}

/** The confirmation card, as Pillar's web panel shows it. Cancel sends nothing. */
function renderCard(view, entry, result, actions) {
  const eyebrowId = uid('card');
  const title = typeof result.title === 'string' && result.title ? result.title : entry.tool_name;
  const cancel = () => {
    view.cardDismissed = true;
    renderAnswer(view, actions);
    $('answer-heading').focus();
  };
  return el('section', { class: 'card', 'aria-labelledby': eyebrowId },
    el('p', { class: 'eyebrow', id: eyebrowId, text: 'Confirmation required' }),
    el('h3', { class: 'card-title', text: title }),
    result.message !== undefined ? el('p', { class: 'card-message', text: valueText(result.message) }) : null,
    renderDetails(result.details),
    el('div', { class: 'card-buttons' },
      el('button', { type: 'button', class: 'primary', 'data-focus-key': 'confirm', onclick: () => actions.confirm(entry, result) }, 'Confirm'),
      el('button', { type: 'button', class: 'secondary', 'data-focus-key': 'cancel', onclick: cancel }, 'Cancel')));
}

function renderDetails(details) {
  if (details === undefined || details === null) return null;
  if (!isObject(details)) return jsonFigure('Details', details);
  return el('table', { class: 'details' },
    el('caption', { text: 'Details' }),
    el('tbody', {}, Object.entries(details).map(([key, value]) =>
      el('tr', {}, el('th', { scope: 'row', text: key }), el('td', { text: valueText(value) })))));
}

function isHttpUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch (_) {
    return false;
  }
}

/** A result with display hints: the summary, the data, the actions as links. */
function renderHints(result) {
  const actions = Array.isArray(result.actions) ? result.actions : [];
  return el('section', { class: 'hints', 'aria-label': 'Display hints' },
    el('p', { class: 'summary', text: result.summary }),
    actions.length ? el('ul', { class: 'hint-actions', 'aria-label': 'Actions' }, actions.map(renderAction)) : null,
    result.data !== undefined ? jsonFigure('Data', result.data) : null);
}

function renderAction(action) {
  const label = isObject(action) && typeof action.label === 'string' && action.label ? action.label : 'Open';
  const url = isObject(action) ? action.url : undefined;
  if (isObject(action) && action.type === 'open_url' && typeof url === 'string' && isHttpUrl(url)) {
    return el('li', {}, el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: label }),
      el('span', { class: 'meta', text: ` ${url}` }));
  }
  return el('li', {}, el('span', { text: `${label} ` }),
    el('span', { class: 'meta', text: `(${valueText(isObject(action) ? action.type : action)}, not a link: ${valueText(url)})` }));
}
