// The `pillar dev` console: lists the tools registered with the local stand-in for
// Pillar Cloud, builds a form from each tool's input schema, calls the tool through the
// console's API (the Rust process signs the webhook: this page never sees the secret),
// renders confirmation cards and display hints as Pillar would, and keeps a history.
//
// ES modules, no framework, no build step, nothing fetched from outside; the page runs
// under a strict Content-Security-Policy (no inline script or style, no eval):
//   main.js     the page's state (`view`, owned here), the tool list, the call form, start-up;
//   api.js      the token and the console's API;
//   schema.js   an input schema as a form description (pure, no DOM);
//   editors.js  the editors' values: defaults, bounds, choices, reading, the caller (pure);
//   form.js     the form description in the DOM;
//   answer.js   the answer region (card, display hints); history.js the history list;
//   commands.js a call as `pillar call` and curl command lines (pure);
//   dom.js      small DOM helpers.

import { ApiError, forgetToken, isRefusedToken, request, takeToken, tokenInHash } from './api.js';
import { $, el, preserveFocus, time, uid } from './dom.js';
import { describeForm, isObject, pretty } from './schema.js';
import { CALLER_FIELDS, callerFrom, formResult, parseArguments } from './editors.js';
import { renderForm } from './form.js';
import { confirmRequest, showEntry, showRefusal } from './answer.js';
import { renderHistory } from './history.js';

const POLL_EMPTY_MS = 2000; // until a server registers
const POLL_MS = 5000; // afterwards, to pick up re-registrations

/** The page's state; answer.js and history.js get it from here. */
const view = {
  token: null, // the console's token
  pollTimer: null,
  state: null, // the last /console/api/state answer
  stateText: '', // its JSON, to re-render only on change
  selected: null, // {endpoint_url, name}
  selectedText: '', // the selected tool's JSON, to rebuild its form only on change
  form: { editor: null, jsonEdited: false }, // the call form's editor (form.js)
  latest: null, // the history entry shown in the answer region
  cardDismissed: false,
  busy: false,
  openHistory: new Set(), // ids of the history entries whose <details> is open
};

const api = (method, path, body) => request(view.token, method, path, body);
/** The state's JSON without the pings' times, which change every few seconds. */
const stateKey = (state) => JSON.stringify(state, (key, value) => (key === 'checked_ms' ? undefined : value));
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const toolKey = (endpointUrl, name) => `${endpointUrl}\n${name}`;

function findTool(selection) {
  if (!selection || !view.state) return null;
  const endpoint = view.state.endpoints.find((e) => e.endpoint_url === selection.endpoint_url);
  const tool = endpoint && endpoint.tools.find((t) => t.name === selection.name);
  return tool ? { endpoint, tool } : null;
}

// ---------------------------------------------------------------------------------
// API errors and the missing token
// ---------------------------------------------------------------------------------

/** Shows an API error: a refused token replaces the page with the token notice. */
function showApiError(error) {
  if (isRefusedToken(error)) {
    forgetToken();
    showNoToken(`The console refused the token (${error.message}).`);
    return;
  }
  const code = error instanceof ApiError && error.code ? ` (${error.code})` : '';
  $('api-error').textContent = `${error.message}${code}`;
  $('api-error').hidden = false;
  $('connection').textContent = 'Not connected';
}

function showNoToken(reason) {
  stopPolling();
  $('app').hidden = true;
  $('refresh').hidden = true;
  $('no-token').hidden = false;
  const message = $('no-token-message');
  const old = message.querySelector('.reason');
  if (old) old.remove();
  if (reason) message.prepend(el('span', { class: 'reason', text: `${reason} ` }));
  $('connection').textContent = 'No token';
}

// ---------------------------------------------------------------------------------
// State: endpoints, tools, warnings, refused registrations
// ---------------------------------------------------------------------------------

function stopPolling() {
  if (view.pollTimer !== null) clearTimeout(view.pollTimer);
  view.pollTimer = null;
}

/** Loads the state, renders it when it changed, and schedules the next poll. */
async function loadState() {
  stopPolling();
  try {
    const state = await api('GET', '/console/api/state');
    $('api-error').hidden = true;
    const down = state.endpoints.filter((e) => e.health && e.health.state === 'unreachable').length;
    $('connection').textContent = `Connected: ${plural(state.endpoints.length, 'server')} registered`
      + (down ? `, ${down} not answering` : '');
    const text = stateKey(state);
    if (text !== view.stateText) {
      view.stateText = text;
      view.state = state;
      renderState();
    }
    view.pollTimer = setTimeout(loadState, state.endpoints.length ? POLL_MS : POLL_EMPTY_MS);
  } catch (error) {
    showApiError(error);
    if (!isRefusedToken(error)) view.pollTimer = setTimeout(loadState, POLL_EMPTY_MS);
  }
}

function renderState() {
  const state = view.state;
  fillChannels(state.channels || []);
  $('no-endpoints').hidden = state.endpoints.length > 0;
  preserveFocus($('endpoints'), () => {
    $('endpoints').replaceChildren(...state.endpoints.map(renderEndpoint));
  });
  const rejected = state.rejected || [];
  $('rejected').hidden = rejected.length === 0;
  $('rejected-list').replaceChildren(...rejected.map((r) => el('li', {},
    el('span', { class: 'meta', text: `${time(r.at_ms)} · ${r.endpoint_url || (r.error === 'invalid_json' ? 'a body that is not JSON' : 'no endpoint_url in the body')}: ` }),
    r.message)));
  // The selected tool may have changed or gone away with a re-registration.
  const found = findTool(view.selected);
  if (!found) {
    if (view.selected) selectTool(null);
  } else if (JSON.stringify(found.tool) !== view.selectedText) {
    selectTool(view.selected);
  }
}

function renderEndpoint(endpoint) {
  const headingId = uid('endpoint');
  const isDefault = view.state.default_endpoint_url === endpoint.endpoint_url;
  const again = endpoint.registrations > 1;
  const registered = `${again ? 're-registered' : 'registered'} at ${time(endpoint.registered_at_ms)}, ${plural(endpoint.tools.length, 'tool')}`;
  return el('section', { class: `endpoint${again ? ' endpoint-again' : ''}`, 'aria-labelledby': headingId },
    el('div', { class: 'endpoint-head' },
      el('h3', { id: headingId, class: 'endpoint-url', text: endpoint.endpoint_url }),
      el('button', {
        type: 'button', class: 'secondary small', 'aria-label': `Remove ${endpoint.endpoint_url}`,
        'data-focus-key': `remove:${endpoint.endpoint_url}`, onclick: () => removeEndpoint(endpoint.endpoint_url),
      }, 'Remove')),
    renderHealth(endpoint.health),
    el('p', { class: 'meta registered', text: [endpoint.sdk_version, registered,
      again ? `registration ${endpoint.registrations}, replacing the last` : null,
      isDefault ? 'PILLAR_ENDPOINT_URL' : null].filter(Boolean).join(' · ') }),
    renderWarnings(endpoint.warnings || [], 'Registration warnings'),
    endpoint.tools.length === 0 ? el('p', { class: 'empty', text: 'No tools.' }) : null,
    el('ul', { class: 'tool-list' }, endpoint.tools.map((tool) => renderToolButton(endpoint, tool))),
    renderSkills(endpoint.skills || []));
}

/** Whether the server answers its ping: in words and an icon, not colour alone. */
function renderHealth(health) {
  const h = isObject(health) ? health : { state: 'checking' };
  if (h.state === 'reachable') {
    return el('p', { class: 'health health-up' }, el('span', { 'aria-hidden': 'true', text: '● ' }), `Answers its ping (since ${time(h.since_ms)})`);
  }
  if (h.state === 'unreachable') {
    return el('p', { class: 'health health-down' }, el('span', { 'aria-hidden': 'true', text: '✗ ' }),
      `Not answering since ${time(h.since_ms)}`, h.problem ? el('span', { class: 'meta', text: `: ${h.problem}` }) : null);
  }
  return el('p', { class: 'health meta', text: 'Checking that it answers…' });
}

/** Forgets a server's registration (it comes back when the server registers again). */
async function removeEndpoint(endpointUrl) {
  try {
    await api('POST', '/console/api/remove', { endpoint_url: endpointUrl });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) showApiError(error);
  }
  loadState();
}

function renderWarnings(warnings, title) {
  if (warnings.length === 0) return null;
  const headingId = uid('warnings');
  return el('section', { class: 'warnings', 'aria-labelledby': headingId },
    el('h4', { id: headingId, text: title }),
    el('ul', {}, warnings.map((w) => el('li', {},
      w.tool ? el('strong', { text: `${w.tool}: ` }) : null, w.message))));
}

function renderToolButton(endpoint, tool) {
  const key = toolKey(endpoint.endpoint_url, tool.name);
  const selected = view.selected && toolKey(view.selected.endpoint_url, view.selected.name) === key;
  const firstLine = (tool.description || '').split('\n')[0];
  return el('li', {},
    el('button', {
      type: 'button', class: 'tool-button', 'data-focus-key': `tool:${key}`,
      'aria-current': selected ? 'true' : null,
      onclick: () => selectTool({ endpoint_url: endpoint.endpoint_url, name: tool.name }),
    }, tool.name),
    firstLine ? el('p', { class: 'tool-summary', text: firstLine }) : null);
}

function renderSkills(skills) {
  if (skills.length === 0) return null;
  return el('details', { class: 'skills' },
    el('summary', { text: `Skills (${skills.length})` }),
    skills.map((skill) => el('section', { class: 'skill' },
      el('h4', { text: skill.name }),
      el('p', { text: skill.description || '' }),
      el('pre', { class: 'skill-content', text: skill.content || '' }))));
}

/** The caller's channel choices: the channels the console's state lists. */
function fillChannels(channels) {
  const select = $('caller-channel');
  const current = select.value || 'web';
  const list = channels.length ? channels : ['web'];
  select.replaceChildren(...list.map((c) => el('option', { value: c, text: c })));
  select.value = list.includes(current) ? current : list[0];
  updateChannelWarning();
}

// ---------------------------------------------------------------------------------
// The selected tool
// ---------------------------------------------------------------------------------

function selectTool(selection) {
  view.selected = selection;
  const found = findTool(selection);
  view.selectedText = found ? JSON.stringify(found.tool) : '';
  for (const button of document.querySelectorAll('.tool-button')) {
    const mine = found && button.dataset.focusKey === `tool:${toolKey(selection.endpoint_url, selection.name)}`;
    if (mine) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
  }
  $('no-tool').hidden = Boolean(found);
  $('tool').hidden = !found;
  $('call-form').hidden = !found;
  if (!found) return;
  renderToolPanel(found.endpoint, found.tool);
  buildForm(found.tool);
  updateChannelWarning();
}

function renderToolPanel(endpoint, tool) {
  $('tool-heading').textContent = tool.name;
  $('tool-description').textContent = tool.description || '(no description)';
  const channels = tool.channel_compatibility || ['*'];
  const facts = [
    ['Endpoint', endpoint.endpoint_url],
    ['Type', tool.tool_type],
    ['Timeout', typeof tool.timeout_ms === 'number' ? `${tool.timeout_ms} ms` : undefined],
    ['Channels', channels.includes('*') ? 'all (*)' : channels.join(', ')],
    ['Guidance', tool.guidance],
  ].filter(([, value]) => value !== undefined && value !== null && value !== '');
  $('tool-facts').replaceChildren(...facts.flatMap(([name, value]) =>
    [el('dt', { text: name }), el('dd', { text: String(value) })]));
  const warnings = ((endpoint.warnings || []).filter((w) => w.tool === tool.name));
  $('tool-warnings').hidden = warnings.length === 0;
  $('tool-warnings').replaceChildren(...warnings.map((w) => el('li', { text: w.message })));
  $('input-schema-json').textContent = pretty(tool.inputSchema);
  $('output-schema').hidden = tool.outputSchema === undefined;
  $('output-schema-json').textContent = tool.outputSchema === undefined ? '' : pretty(tool.outputSchema);
}

/** Warns when the selected tool is not offered on the caller's channel. */
function updateChannelWarning() {
  const found = findTool(view.selected);
  const channel = $('caller-channel').value;
  const channels = found ? (found.tool.channel_compatibility || ['*']) : ['*'];
  const offered = channels.includes('*') || channels.includes(channel);
  $('channel-warning').hidden = offered;
  $('channel-warning').textContent = offered ? ''
    : `${found.tool.name} is offered on ${channels.join(', ')} only: a call from ${channel} may be refused.`;
}

// ---------------------------------------------------------------------------------
// The call form: generated fields, the raw JSON editor, the preview
// ---------------------------------------------------------------------------------

function buildForm(tool) {
  const form = view.form;
  form.editor = renderForm(describeForm(tool.inputSchema), updatePreview);
  $('fields').replaceChildren(form.editor.element);
  $('form-error').hidden = true;
  form.jsonEdited = false;
  const built = readForm();
  $('json-text').value = built.value === undefined ? '{}' : pretty(built.value);
  updatePreview();
}

function readForm() {
  const errors = [];
  return formResult(view.form.editor.read(errors), errors);
}

const jsonMode = () => $('json-mode').checked;

/** The arguments to send: the form's, or the JSON editor's parsed as is. */
const currentArguments = () => (jsonMode() ? parseArguments($('json-text').value) : readForm());

function updatePreview() {
  if (!view.form.editor) return;
  const built = readForm();
  $('preview-json').textContent = built.errors ? built.errors.join('\n') : pretty(built.value);
  $('preview-json').classList.toggle('preview-error', Boolean(built.errors));
}

function setJsonMode() {
  const on = jsonMode();
  if (on && !view.form.jsonEdited) {
    const built = readForm();
    if (!built.errors) $('json-text').value = pretty(built.value);
  }
  $('json-editor').hidden = !on;
  $('arguments').hidden = on;
  $('preview').hidden = on;
  $('form-error').hidden = true;
  updateStale();
}

/**
 * Marks the answer stale while the JSON editor holds text that is not JSON (the answer
 * then shows a call the editor no longer describes), and says why under the editor.
 */
function updateStale() {
  const parsed = jsonMode() ? parseArguments($('json-text').value) : {};
  const bad = Boolean(parsed.errors);
  $('json-error').hidden = !bad;
  $('json-error').textContent = bad ? parsed.errors.join(' ') : '';
  $('answer').classList.toggle('stale', bad);
  $('answer-stale').hidden = !bad;
}

/** Puts a history entry's tool, arguments (in the JSON editor) and caller into the form. */
function loadIntoForm(entry) {
  const selection = { endpoint_url: entry.endpoint_url, name: entry.tool_name };
  $('load-error').hidden = true;
  if (!findTool(selection)) {
    $('load-error').textContent = `Cannot load #${entry.id}: ${entry.endpoint_url} no longer registers ${entry.tool_name}.`;
    $('load-error').hidden = false;
    return;
  }
  selectTool(selection);
  const sent = isObject(entry.sent) ? entry.sent : {};
  const input = sent.action === 'tool_confirm' ? sent.confirm_payload : sent.arguments;
  $('json-mode').checked = true;
  view.form.jsonEdited = true;
  $('json-text').value = pretty(input === undefined ? {} : input);
  setJsonMode();
  const caller = isObject(sent.caller) ? sent.caller : {};
  const channel = $('caller-channel');
  if ([...channel.options].some((o) => o.value === caller.channel)) channel.value = caller.channel;
  for (const [key, id] of CALLER_FIELDS) $(id).value = typeof caller[key] === 'string' ? caller[key] : '';
  $('conversation-id').value = typeof sent.conversation_id === 'string' ? sent.conversation_id : '';
  updateChannelWarning();
  updateStale();
  $('json-text').focus();
}

function showFormError(message) {
  $('form-error').textContent = message;
  $('form-error').hidden = false;
}

// ---------------------------------------------------------------------------------
// Calls, confirmations, re-sends
// ---------------------------------------------------------------------------------

/** The caller panel's values, empty ones left out. */
function readCaller() {
  const values = { channel: $('caller-channel').value };
  for (const [key, id] of CALLER_FIELDS) values[key] = $(id).value;
  return callerFrom(values);
}

function setBusy(busy) {
  view.busy = busy;
  $('call-button').setAttribute('aria-disabled', String(busy));
  document.body.classList.toggle('busy', busy);
}

/** What the answer region's buttons do. */
const actions = {
  confirm: (entry, result) => runAction(
    () => api('POST', '/console/api/confirm', confirmRequest(entry, result, readCaller())), true),
  resend: (id) => runAction(() => api('POST', '/console/api/resend', { id }), false),
};

/** Runs one API action that answers a history entry, then shows it. */
async function runAction(send, focusAnswer) {
  if (view.busy) return;
  setBusy(true);
  try {
    const entry = await send();
    showEntry(view, entry, focusAnswer, actions);
  } catch (error) {
    if (isRefusedToken(error)) showApiError(error);
    else showRefusal(view, error);
  } finally {
    setBusy(false);
    refreshHistory();
  }
}

function onSubmit(event) {
  event.preventDefault();
  const found = findTool(view.selected);
  if (!found || view.busy) return;
  const args = currentArguments();
  if (args.errors) {
    showFormError(args.errors.join(' '));
    return;
  }
  $('form-error').hidden = true;
  const body = {
    endpoint_url: found.endpoint.endpoint_url,
    tool_name: found.tool.name,
    arguments: args.value,
    caller: readCaller(),
  };
  const conversation = $('conversation-id').value.trim();
  if (conversation) body.conversation_id = conversation;
  runAction(() => api('POST', '/console/api/call', body), false);
}

async function refreshHistory() {
  try {
    const { entries } = await api('GET', '/console/api/history');
    renderHistory(view, Array.isArray(entries) ? entries : [], actions.resend, loadIntoForm);
  } catch (error) {
    showApiError(error);
  }
}

// ---------------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------------

function start() {
  view.token = takeToken();
  if (!view.token) {
    showNoToken('');
    return;
  }
  $('no-token').hidden = true;
  $('app').hidden = false;
  $('refresh').hidden = false;
  loadState();
  refreshHistory();
}

function wire() {
  $('refresh').addEventListener('click', () => {
    if (!view.token) return;
    loadState();
    refreshHistory();
  });
  $('call-form').addEventListener('submit', onSubmit);
  $('call-form').addEventListener('input', (event) => {
    if (event.target === $('json-text')) {
      view.form.jsonEdited = true;
      updateStale();
    } else updatePreview();
  });
  // Ctrl+Enter (Cmd+Enter on a Mac) sends the call from anywhere in the form.
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || !(event.ctrlKey || event.metaKey) || $('call-form').hidden) return;
    const active = document.activeElement;
    if (active && active !== document.body && !$('call-form').contains(active)) return;
    event.preventDefault();
    $('call-form').requestSubmit();
  });
  $('call-form').addEventListener('change', updatePreview);
  $('json-mode').addEventListener('change', setJsonMode);
  $('caller-channel').addEventListener('change', updateChannelWarning);
  // Pasting the printed URL again (a new token after a restart) takes effect at once.
  window.addEventListener('hashchange', () => {
    if (tokenInHash()) start();
  });
}

wire();
start();
