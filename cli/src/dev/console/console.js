// The `pillar dev` console: lists the tools registered with the local stand-in for
// Pillar Cloud, builds a form from each tool's input schema, calls the tool through the
// console's API (the Rust process signs the webhook: this page never sees the secret),
// renders confirmation cards and display hints as Pillar would, and keeps a history.
//
// Plain ES2020, no framework, no build step, nothing fetched from outside. The page runs
// under a strict Content-Security-Policy: no inline script or style, no eval. Every piece
// of data (tool descriptions, answers) is untrusted text: the DOM is built with
// createElement and textContent, never innerHTML.
'use strict';

(() => {
  const TOKEN_KEY = 'pillar-dev-console-token';
  const TOKEN_HEADER = 'X-Pillar-Console-Token';
  const POLL_EMPTY_MS = 2000; // until a server registers
  const POLL_MS = 5000; // afterwards, to pick up re-registrations
  const MAX_DEPTH = 12; // nesting limit of generated forms

  // ---------------------------------------------------------------------------------
  // Small DOM helpers
  // ---------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** Makes an element: `props` are attributes, except `class`, `text` and `on<event>`. */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  let idCounter = 0;
  const uid = (prefix = 'f') => `${prefix}-${++idCounter}`;

  const pretty = (value) => JSON.stringify(value, null, 2);
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);
  const time = (ms) => (typeof ms === 'number' ? new Date(ms).toLocaleTimeString() : '');
  const latency = (ms) => (typeof ms === 'number' ? `${ms.toFixed(1)} ms` : '');
  const valueText = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

  /** A <figure> holding pretty-printed JSON, named by its caption. */
  function jsonFigure(caption, value, extraClass = '') {
    const text = value === undefined ? '(nothing)' : pretty(value);
    return el('figure', { class: `json-figure ${extraClass}` },
      el('figcaption', { text: caption }), el('pre', { text }));
  }

  /** Re-renders a container and gives focus back to the element with the same key. */
  function preserveFocus(container, render) {
    const active = document.activeElement;
    const key = active && container.contains(active) ? active.dataset.focusKey : undefined;
    render();
    if (!key) return;
    const again = [...container.querySelectorAll('[data-focus-key]')]
      .find((node) => node.dataset.focusKey === key);
    if (again) again.focus();
  }

  // ---------------------------------------------------------------------------------
  // The token and the console's API
  // ---------------------------------------------------------------------------------

  /** Reads the token from `#token=...` (then drops the hash) or from sessionStorage. */
  function takeToken() {
    const fromHash = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
    if (fromHash) {
      try { sessionStorage.setItem(TOKEN_KEY, fromHash); } catch (_) { /* private mode */ }
      history.replaceState(null, '', location.pathname + location.search);
      return fromHash;
    }
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (_) { return null; }
  }

  let token = null;

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** Calls the console's API with the token; JSON in, JSON out, ApiError on failure. */
  async function api(method, path, body) {
    const headers = { [TOKEN_HEADER]: token, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method, headers, cache: 'no-store', credentials: 'omit',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new ApiError(0, 'unreachable',
        'The console does not answer: is `pillar dev` still running? Start it again and open the URL it prints.');
    }
    let data = null;
    try { data = await response.json(); } catch (_) { /* not JSON: handled below */ }
    if (!response.ok) {
      const message = isObject(data) && typeof data.message === 'string'
        ? data.message : `The console answered HTTP ${response.status}.`;
      throw new ApiError(response.status, isObject(data) ? data.error : undefined, message);
    }
    if (data === null) throw new ApiError(response.status, 'bad_answer', 'The console answered something that is not JSON.');
    return data;
  }

  /** Shows an API error: a refused token replaces the page with the token notice. */
  function showApiError(error) {
    if (error instanceof ApiError && error.status === 401) {
      try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* ignore */ }
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
  // Page state
  // ---------------------------------------------------------------------------------

  const view = {
    state: null, // the last /console/api/state answer
    stateText: '', // its JSON, to re-render only on change
    selected: null, // {endpoint_url, name}
    selectedText: '', // the selected tool's JSON, to rebuild its form only on change
    latest: null, // the history entry shown in the answer region
    cardDismissed: false,
    busy: false,
    openHistory: new Set(), // ids of the history entries whose <details> is open
  };

  const toolKey = (endpointUrl, name) => `${endpointUrl}\n${name}`;

  function findTool(selection) {
    if (!selection || !view.state) return null;
    const endpoint = view.state.endpoints.find((e) => e.endpoint_url === selection.endpoint_url);
    const tool = endpoint && endpoint.tools.find((t) => t.name === selection.name);
    return tool ? { endpoint, tool } : null;
  }

  // ---------------------------------------------------------------------------------
  // State: endpoints, tools, warnings, refused registrations
  // ---------------------------------------------------------------------------------

  let pollTimer = null;

  function stopPolling() {
    if (pollTimer !== null) clearTimeout(pollTimer);
    pollTimer = null;
  }

  /** Loads the state, renders it when it changed, and schedules the next poll. */
  async function loadState() {
    stopPolling();
    try {
      const state = await api('GET', '/console/api/state');
      $('api-error').hidden = true;
      $('connection').textContent = `Connected: ${plural(state.endpoints.length, 'server')} registered`;
      const text = JSON.stringify(state);
      if (text !== view.stateText) {
        view.stateText = text;
        view.state = state;
        renderState();
      }
      pollTimer = setTimeout(loadState, state.endpoints.length ? POLL_MS : POLL_EMPTY_MS);
    } catch (error) {
      showApiError(error);
      if (!(error instanceof ApiError && error.status === 401)) {
        pollTimer = setTimeout(loadState, POLL_EMPTY_MS);
      }
    }
  }

  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

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
      el('span', { class: 'meta', text: `${time(r.at_ms)} · ${r.endpoint_url || 'no endpoint URL'}: ` }),
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
    return el('section', { class: 'endpoint', 'aria-labelledby': headingId },
      el('h3', { id: headingId, class: 'endpoint-url', text: endpoint.endpoint_url }),
      el('p', { class: 'meta', text: [endpoint.sdk_version, `registered at ${time(endpoint.registered_at_ms)}`,
        isDefault ? 'PILLAR_ENDPOINT_URL' : null].filter(Boolean).join(' · ') }),
      renderWarnings(endpoint.warnings || [], 'Registration warnings'),
      endpoint.tools.length === 0 ? el('p', { class: 'empty', text: 'No tools.' }) : null,
      el('ul', { class: 'tool-list' }, endpoint.tools.map((tool) => renderToolButton(endpoint, tool))),
      renderSkills(endpoint.skills || []));
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
  // JSON Schema helpers
  // ---------------------------------------------------------------------------------

  const asSchema = (s) => (isObject(s) ? s : s === false ? { not: {} } : {});

  /** Follows a local JSON pointer such as `#/$defs/Plan` or `#/definitions/Plan`. */
  function lookupRef(root, ref) {
    if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
    let node = root;
    for (const raw of ref.slice(1).split('/').slice(1)) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!node || typeof node !== 'object' || !has(node, key)) return undefined;
      node = node[key];
    }
    return node;
  }

  /**
   * Resolves `$ref` (keeping the referring schema's own keywords, such as its description)
   * and merges `allOf`. `ctx.refs` lists the references followed on the way here: meeting
   * one again means a recursive type, which the caller edits as raw JSON.
   */
  function resolve(schema, ctx) {
    let s = asSchema(schema);
    let refs = ctx.refs;
    let recursive = false;
    while (typeof s.$ref === 'string') {
      const { $ref: ref, ...local } = s;
      if (refs.includes(ref)) { recursive = true; s = local; break; }
      refs = [...refs, ref];
      s = { ...asSchema(lookupRef(ctx.root, ref)), ...local };
    }
    const inner = { ...ctx, refs };
    if (Array.isArray(s.allOf)) s = mergeAllOf(s, inner);
    return { schema: s, ctx: inner, recursive };
  }

  function mergeAllOf(schema, ctx) {
    const { allOf, ...merged } = schema;
    for (const part of allOf) {
      const r = resolve(part, ctx).schema;
      for (const [key, value] of Object.entries(r)) {
        if (key === 'properties') merged.properties = { ...value, ...(merged.properties || {}) };
        else if (key === 'required') merged.required = [...(merged.required || []), ...value];
        else if (!has(merged, key)) merged[key] = value;
      }
    }
    return merged;
  }

  const isNullSchema = (s) => s.type === 'null'
    || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === 'null')
    || (has(s, 'const') && s.const === null)
    || (Array.isArray(s.enum) && s.enum.length === 1 && s.enum[0] === null);

  /**
   * Takes `null` out of a schema: `type: ["string", "null"]`, `enum` with null, and
   * `anyOf`/`oneOf` with a `{"type": "null"}` variant (as schemars and pydantic write
   * `Option<T>`). Returns the schema without it and whether null was allowed.
   */
  function withoutNull(schema, ctx) {
    let s = schema;
    let nullable = s.nullable === true;
    if (Array.isArray(s.type) && s.type.includes('null')) {
      const types = s.type.filter((t) => t !== 'null');
      s = { ...s, type: types.length === 1 ? types[0] : types };
      nullable = true;
    }
    if (Array.isArray(s.enum) && s.enum.includes(null)) {
      s = { ...s, enum: s.enum.filter((v) => v !== null) };
      nullable = true;
    }
    for (const key of ['anyOf', 'oneOf']) {
      if (!Array.isArray(s[key])) continue;
      const variants = s[key].filter((v) => !isNullSchema(resolve(v, ctx).schema));
      if (variants.length === s[key].length) continue;
      nullable = true;
      const { [key]: _dropped, ...rest } = s;
      if (variants.length === 1) {
        const only = resolve(variants[0], ctx);
        s = { ...only.schema, ...rest };
        ctx = only.ctx;
      } else {
        s = { ...rest, [key]: variants };
      }
    }
    return { schema: s, nullable, ctx };
  }

  /** The allowed values of an enum-like schema (`enum`, `const`, oneOf/anyOf of consts). */
  function enumOptions(s, ctx) {
    if (Array.isArray(s.enum)) return s.enum.map((value) => ({ value }));
    if (has(s, 'const')) return [{ value: s.const, description: s.description }];
    for (const key of ['oneOf', 'anyOf']) {
      if (!Array.isArray(s[key]) || s[key].length === 0) continue;
      const options = [];
      for (const variant of s[key]) {
        const v = resolve(variant, ctx).schema;
        if (has(v, 'const')) options.push({ value: v.const, description: v.description || v.title });
        else if (Array.isArray(v.enum)) v.enum.forEach((value) => options.push({ value, description: v.description }));
        else return null;
      }
      return options;
    }
    return null;
  }

  /** Which editor a (resolved, null-free) schema gets. */
  function kindOf(s, ctx) {
    if (enumOptions(s, ctx)) return 'enum';
    let type = s.type;
    if (Array.isArray(type)) type = type.length === 1 ? type[0] : undefined;
    if (type === undefined && isObject(s.properties)) type = 'object';
    if (type === undefined && s.items !== undefined) type = 'array';
    if (type === 'object') return isObject(s.properties) && Object.keys(s.properties).length ? 'object' : 'json';
    if (type === 'array') return isObject(s.items) || s.items === true ? 'array' : 'json';
    if (['string', 'number', 'integer', 'boolean'].includes(type)) return type;
    return 'json';
  }

  /** The description and constraints of a schema, as one sentence for a hint. */
  function describe(s, nullable, kind) {
    const bits = kind ? [kind] : [];
    const add = (cond, text) => { if (cond) bits.push(text); };
    add(s.format, `format ${s.format}`);
    add(typeof s.minLength === 'number', `at least ${s.minLength} characters`);
    add(typeof s.maxLength === 'number', `at most ${s.maxLength} characters`);
    add(s.pattern, `pattern ${s.pattern}`);
    add(typeof s.minimum === 'number', `≥ ${s.minimum}`);
    add(typeof s.exclusiveMinimum === 'number', `> ${s.exclusiveMinimum}`);
    add(typeof s.maximum === 'number', `≤ ${s.maximum}`);
    add(typeof s.exclusiveMaximum === 'number', `< ${s.exclusiveMaximum}`);
    add(typeof s.multipleOf === 'number', `multiple of ${s.multipleOf}`);
    add(typeof s.minItems === 'number', `at least ${s.minItems} items`);
    add(typeof s.maxItems === 'number', `at most ${s.maxItems} items`);
    add(s.uniqueItems === true, 'unique items');
    add(has(s, 'default'), `default ${valueText(s.default)}`);
    add(nullable, 'may be null');
    const description = typeof s.description === 'string' ? s.description.trim() : '';
    const constraints = bits.length ? `(${bits.join(', ')})` : '';
    return [description, constraints].filter(Boolean).join(' ');
  }

  // ---------------------------------------------------------------------------------
  // Form generation. An editor is {element, read(errors), setLabel(text)}: read returns
  // {present: false} for a value to leave out, or {present: true, value}, and pushes a
  // sentence onto `errors` when its input cannot be turned into JSON.
  // ---------------------------------------------------------------------------------

  const ABSENT = Object.freeze({ present: false });
  const present = (value) => ({ present: true, value });

  /** The editor for one value of a schema. `field` is {name, path, required}. */
  function buildEditor(rawSchema, field, ctx) {
    const resolved = resolve(rawSchema, ctx);
    const { schema, nullable, ctx: inner } = withoutNull(resolved.schema, resolved.ctx);
    const deeper = { ...inner, depth: inner.depth + 1 };
    if (resolved.recursive || ctx.depth >= MAX_DEPTH) return jsonEditor(schema, field, nullable);
    switch (kindOf(schema, deeper)) {
      case 'enum': return selectEditor(enumOptions(schema, deeper), schema, field, nullable);
      case 'string': return stringEditor(schema, field, nullable);
      case 'number': return numberEditor(schema, field, nullable, false);
      case 'integer': return numberEditor(schema, field, nullable, true);
      case 'boolean':
        return field.required && !nullable
          ? checkboxEditor(schema, field)
          : selectEditor([{ value: true }, { value: false }], schema, field, nullable);
      case 'array': return arrayEditor(schema, field, deeper, nullable);
      case 'object': return objectEditor(schema, field, deeper, nullable, false);
      default: return jsonEditor(schema, field, nullable);
    }
  }

  /**
   * A <label> with the field's name and, when required, a star beside it (outside the
   * label and hidden from assistive technology, so the label is the name alone; the
   * input's `required` says it to screen readers).
   */
  function fieldLabel(forId, field) {
    const label = el('label', { for: forId, text: field.name });
    const mark = field.required ? requiredMark() : null;
    return { label, mark, setLabel: (value) => { label.textContent = value; } };
  }

  const requiredMark = () => el('span', { class: 'required-mark', 'aria-hidden': 'true', title: 'required' }, '*');

  /** The hint under an input (description, constraints), linked by aria-describedby. */
  function hintFor(input, s, nullable, extra, kind) {
    const text = [describe(s, nullable, kind), extra].filter(Boolean).join(' ');
    if (!text) return null;
    const hint = el('p', { class: 'hint', id: uid('hint'), text });
    input.setAttribute('aria-describedby', hint.id);
    return hint;
  }

  /** The common shape of a one-input field: label, input, hint. */
  function simpleField(input, s, field, nullable, read, extraHint, kind) {
    if (field.required) input.required = true;
    const { label, mark, setLabel } = fieldLabel(input.id, field);
    const hint = hintFor(input, s, nullable, extraHint, kind);
    return { element: el('div', { class: 'field' }, label, mark, input, hint), read, setLabel };
  }

  const INPUT_TYPES = { email: 'email', uri: 'url', url: 'url', date: 'date', time: 'time' };
  const PLACEHOLDERS = { 'date-time': '2025-01-31T09:30:00Z', uuid: '00000000-0000-0000-0000-000000000000' };

  function stringEditor(s, field, nullable) {
    const input = el('input', {
      id: uid(), type: INPUT_TYPES[s.format] || 'text', autocomplete: 'off', spellcheck: 'false',
      placeholder: PLACEHOLDERS[s.format],
    });
    if (typeof s.default === 'string') {
      if (field.required) input.value = s.default;
      else input.placeholder = s.default;
    }
    const read = () => (input.value === '' ? ABSENT : present(input.value));
    return simpleField(input, s, field, nullable, read);
  }

  function numberEditor(s, field, nullable, integer) {
    const input = el('input', { id: uid(), type: 'number', inputmode: integer ? 'numeric' : 'decimal' });
    // An exclusive bound is the next allowed value for integers; for numbers the hint says it.
    const lower = typeof s.minimum === 'number' ? s.minimum
      : typeof s.exclusiveMinimum === 'number' ? (integer ? Math.floor(s.exclusiveMinimum) + 1 : s.exclusiveMinimum) : undefined;
    const upper = typeof s.maximum === 'number' ? s.maximum
      : typeof s.exclusiveMaximum === 'number' ? (integer ? Math.ceil(s.exclusiveMaximum) - 1 : s.exclusiveMaximum) : undefined;
    if (lower !== undefined) input.min = String(lower);
    if (upper !== undefined) input.max = String(upper);
    input.step = typeof s.multipleOf === 'number' ? String(s.multipleOf) : integer ? '1' : 'any';
    if (typeof s.default === 'number') {
      if (field.required) input.value = String(s.default);
      else input.placeholder = String(s.default);
    }
    const read = (errors) => {
      if (input.value !== '') return present(Number(input.value));
      if (input.validity.badInput) errors.push(`${field.path}: the text typed is not a number.`);
      return ABSENT;
    };
    return simpleField(input, s, field, nullable, read, '', integer ? 'an integer' : 'a number');
  }

  function checkboxEditor(s, field) {
    const input = el('input', { id: uid(), type: 'checkbox' });
    input.checked = s.default === true;
    if (field.required) input.required = true;
    const { label, mark, setLabel } = fieldLabel(input.id, field);
    const hint = hintFor(input, s, false);
    return {
      element: el('div', { class: 'field field-check' }, input, label, mark, hint),
      read: () => present(input.checked),
      setLabel,
    };
  }

  /** A <select> over fixed values; the empty choice leaves the field out. */
  function selectEditor(options, s, field, nullable) {
    const all = nullable && !options.some((o) => o.value === null) ? [...options, { value: null }] : options;
    const select = el('select', { id: uid() });
    const leaveOut = has(s, 'default') ? `(leave out: default ${valueText(s.default)})` : '(leave out)';
    select.append(el('option', { value: '', text: field.required ? '(choose one)' : leaveOut }));
    for (const option of all) {
      const text = option.description ? `${valueText(option.value)} — ${option.description}` : valueText(option.value);
      select.append(el('option', { value: JSON.stringify(option.value), text }));
    }
    if (field.required && has(s, 'default')) select.value = JSON.stringify(s.default);
    else if (field.required && all.length === 1) select.value = JSON.stringify(all[0].value);
    const read = () => (select.value === '' ? ABSENT : present(JSON.parse(select.value)));
    return simpleField(select, s, field, nullable, read);
  }

  /** Raw JSON for anything the form cannot model (free-form objects, unions, recursion). */
  function jsonEditor(s, field, nullable) {
    const input = el('textarea', { id: uid(), rows: '3', spellcheck: 'false', class: 'json-field' });
    const read = (errors) => {
      if (input.value.trim() === '') return ABSENT;
      try {
        return present(JSON.parse(input.value));
      } catch (error) {
        errors.push(`${field.path || field.name}: not JSON (${error.message}).`);
        return ABSENT;
      }
    };
    const made = simpleField(input, s, field, nullable, read, 'Write this value as JSON.');
    const shown = { ...s };
    delete shown.description;
    if (Object.keys(shown).length) {
      made.element.append(el('details', { class: 'sub-schema' },
        el('summary', { text: `Schema of ${field.name}` }), el('pre', { text: pretty(s) })));
    }
    return made;
  }

  /** A <fieldset> of the properties, or (at the root) the properties alone. */
  function objectEditor(s, field, ctx, nullable, isRoot) {
    const required = new Set(Array.isArray(s.required) ? s.required : []);
    const children = Object.entries(s.properties).map(([name, sub]) => ({
      name,
      editor: buildEditor(sub, {
        name, required: required.has(name), path: field.path ? `${field.path}.${name}` : name,
      }, ctx),
    }));
    const read = (errors) => {
      const value = {};
      for (const child of children) {
        const r = child.editor.read(errors);
        if (r.present) value[child.name] = r.value;
      }
      return Object.keys(value).length || isRoot || field.required ? present(value) : ABSENT;
    };
    const elements = children.map((c) => c.editor.element);
    if (isRoot) return { element: el('div', { class: 'fields' }, elements), read, setLabel: () => {} };
    const legendText = el('span', { text: field.name });
    const description = describe(s, nullable);
    return {
      element: el('fieldset', { class: 'nested' },
        el('legend', {}, legendText,
          field.required ? requiredMark() : null),
        description ? el('p', { class: 'hint', text: description }) : null,
        elements),
      read,
      setLabel: (text) => { legendText.textContent = text; },
    };
  }

  /** A list of item editors with Add and Remove buttons. */
  function arrayEditor(s, field, ctx, nullable) {
    const items = []; // {li, editor, remove}
    const list = el('ol', { class: 'array-items' });
    const legendText = el('span', { text: field.name });
    const nameOf = () => legendText.textContent;

    function relabel() {
      items.forEach((item, i) => {
        item.editor.setLabel(`${nameOf()} item ${i + 1}`);
        item.remove.setAttribute('aria-label', `Remove ${nameOf()} item ${i + 1}`);
      });
      empty.hidden = items.length > 0;
    }

    function addItem(focus) {
      const index = items.length;
      const editor = buildEditor(s.items, {
        name: `${nameOf()} item ${index + 1}`, path: `${field.path}[${index}]`, required: true,
      }, ctx);
      const item = { editor };
      item.remove = el('button', {
        type: 'button', class: 'secondary small',
        onclick: () => {
          item.li.remove();
          items.splice(items.indexOf(item), 1);
          relabel();
          add.focus();
          ctx.onChange();
        },
      }, 'Remove');
      item.li = el('li', { class: 'array-item' }, editor.element, item.remove);
      items.push(item);
      list.append(item.li);
      relabel();
      if (focus) {
        const first = item.li.querySelector('input, select, textarea, button');
        if (first) first.focus();
      }
    }

    const empty = el('p', { class: 'empty', text: 'No items.' });
    const add = el('button', {
      type: 'button', class: 'secondary small',
      onclick: () => { addItem(true); ctx.onChange(); },
    }, 'Add item');
    const setAddLabel = () => add.setAttribute('aria-label', `Add item to ${nameOf()}`);
    setAddLabel();
    const wanted = Math.min(typeof s.minItems === 'number' ? s.minItems : 0, 10);
    for (let i = 0; i < wanted; i++) addItem(false);
    relabel();

    const read = (errors) => {
      const values = items.map((item) => item.editor.read(errors)).filter((r) => r.present).map((r) => r.value);
      return values.length || field.required ? present(values) : ABSENT;
    };
    const description = describe(s, nullable);
    return {
      element: el('fieldset', { class: 'nested array' },
        el('legend', {}, legendText,
          field.required ? requiredMark() : null),
        description ? el('p', { class: 'hint', text: description }) : null,
        list, empty, add),
      read,
      setLabel: (text) => { legendText.textContent = text; setAddLabel(); relabel(); },
    };
  }

  // ---------------------------------------------------------------------------------
  // The call form: generated fields, the raw JSON editor, the preview
  // ---------------------------------------------------------------------------------

  const form = { editor: null, jsonEdited: false };

  function buildForm(tool) {
    const root = asSchema(tool.inputSchema);
    const ctx = { root, refs: [], depth: 0, onChange: updatePreview };
    const resolved = resolve(root, ctx);
    const { schema } = withoutNull(resolved.schema, resolved.ctx);
    const field = { name: 'arguments', path: '', required: true };
    if (kindOf(schema, resolved.ctx) === 'object') {
      form.editor = objectEditor(schema, field, { ...resolved.ctx, depth: 1 }, false, true);
    } else if (takesNoArguments(schema)) {
      form.editor = {
        element: el('p', { class: 'empty', text: 'This tool takes no arguments: it is called with {}.' }),
        read: () => present({}),
        setLabel: () => {},
      };
    } else {
      form.editor = jsonEditor(schema, { ...field, path: 'arguments' }, false);
    }
    $('fields').replaceChildren(form.editor.element);
    $('form-error').hidden = true;
    form.jsonEdited = false;
    const built = readForm();
    $('json-text').value = built.value === undefined ? '{}' : pretty(built.value);
    updatePreview();
  }

  /** An object schema without properties nor extra ones, such as `{"type": "object"}`. */
  function takesNoArguments(s) {
    const noProperties = !isObject(s.properties) || Object.keys(s.properties).length === 0;
    const extra = s.additionalProperties === true || isObject(s.additionalProperties);
    const union = ['oneOf', 'anyOf', 'enum', 'const'].some((key) => has(s, key));
    return (s.type === 'object' || s.type === undefined) && noProperties && !extra && !union;
  }

  function readForm() {
    const errors = [];
    const r = form.editor.read(errors);
    return errors.length ? { errors } : { value: r.present ? r.value : {} };
  }

  const jsonMode = () => $('json-mode').checked;

  /** The arguments to send: the form's, or the JSON editor's parsed as is. */
  function currentArguments() {
    if (!jsonMode()) return readForm();
    const text = $('json-text').value;
    if (text.trim() === '') return { errors: ['The JSON editor is empty: write the arguments as a JSON object, such as {}.'] };
    try {
      return { value: JSON.parse(text) };
    } catch (error) {
      return { errors: [`The arguments are not JSON: ${error.message}. Fix them, or turn off "Edit as JSON" to use the form.`] };
    }
  }

  function updatePreview() {
    if (!form.editor) return;
    const built = readForm();
    $('preview-json').textContent = built.errors ? built.errors.join('\n') : pretty(built.value);
    $('preview-json').classList.toggle('preview-error', Boolean(built.errors));
  }

  function setJsonMode() {
    const on = jsonMode();
    if (on && !form.jsonEdited) {
      const built = readForm();
      if (!built.errors) $('json-text').value = pretty(built.value);
    }
    $('json-editor').hidden = !on;
    $('arguments').hidden = on;
    $('preview').hidden = on;
    $('form-error').hidden = true;
  }

  function showFormError(message) {
    $('form-error').textContent = message;
    $('form-error').hidden = false;
  }

  // ---------------------------------------------------------------------------------
  // Calls, confirmations, re-sends
  // ---------------------------------------------------------------------------------

  const CALLER_FIELDS = [
    ['external_user_id', 'caller-external-user-id'],
    ['email', 'caller-email'],
    ['display_name', 'caller-display-name'],
    ['channel_user_id', 'caller-channel-user-id'],
  ];

  /** The caller panel's values, empty ones left out. */
  function readCaller() {
    const caller = { channel: $('caller-channel').value || 'web' };
    for (const [key, id] of CALLER_FIELDS) {
      const value = $(id).value.trim();
      if (value) caller[key] = value;
    }
    return caller;
  }

  /** The caller of an earlier call, for its confirmation (as Pillar Cloud keeps it). */
  function callerOf(entry) {
    const sent = entry.sent && entry.sent.caller;
    if (!isObject(sent)) return readCaller();
    const caller = { channel: typeof sent.channel === 'string' && sent.channel ? sent.channel : 'web' };
    for (const [key] of CALLER_FIELDS) {
      if (typeof sent[key] === 'string' && sent[key]) caller[key] = sent[key];
    }
    return caller;
  }

  function setBusy(busy) {
    view.busy = busy;
    $('call-button').setAttribute('aria-disabled', String(busy));
    document.body.classList.toggle('busy', busy);
  }

  /** Runs one API action that answers a history entry, then shows it. */
  async function runAction(request, focusAnswer) {
    if (view.busy) return;
    setBusy(true);
    try {
      const entry = await request();
      showEntry(entry, focusAnswer);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) showApiError(error);
      else showRefusal(error);
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

  function confirmCard(entry, result) {
    const payload = has(result, 'confirm_payload') && result.confirm_payload !== null
      ? result.confirm_payload
      : (entry.sent && entry.sent.arguments) || {};
    const body = {
      endpoint_url: entry.endpoint_url,
      tool_name: entry.tool_name,
      confirm_payload: payload,
      caller: callerOf(entry),
      of: entry.id,
    };
    const conversation = entry.sent && entry.sent.conversation_id;
    if (typeof conversation === 'string' && conversation) body.conversation_id = conversation;
    runAction(() => api('POST', '/console/api/confirm', body), true);
  }

  function cancel() {
    view.cardDismissed = true;
    renderAnswer(view.latest);
    $('answer-heading').focus();
  }

  function resend(id) {
    runAction(() => api('POST', '/console/api/resend', { id }), false);
  }

  // ---------------------------------------------------------------------------------
  // The answer region
  // ---------------------------------------------------------------------------------

  function showEntry(entry, focusAnswer) {
    view.latest = entry;
    view.cardDismissed = false;
    renderAnswer(entry);
    const confirmButton = $('answer-body').querySelector('[data-focus-key="confirm"]');
    if (confirmButton) confirmButton.focus();
    else if (focusAnswer) $('answer-heading').focus();
  }

  /** The console itself refused the request (bad request, unknown entry...). */
  function showRefusal(error) {
    view.latest = null;
    $('answer').hidden = false;
    $('answer-body').replaceChildren(
      outcome(false, 'Not sent'),
      el('p', { class: 'error-text', text: error.message }),
      error.code ? el('p', { class: 'meta', text: `The console answered ${error.status ? `HTTP ${error.status}` : 'nothing'} (${error.code}).` }) : null);
  }

  /** "Succeeded" or "Failed", in words and an icon, not colour alone. */
  function outcome(success, text) {
    return el('p', { class: `outcome ${success ? 'outcome-success' : 'outcome-failure'}` },
      el('span', { class: 'outcome-icon', 'aria-hidden': 'true', text: success ? '✓' : '✗' }),
      el('span', { class: 'outcome-text', text }));
  }

  const isConfirmation = (r) => isObject(r) && r.confirmation_required === true;
  const isHints = (r) => isObject(r) && typeof r.summary === 'string';

  function renderAnswer(entry) {
    $('answer').hidden = false;
    preserveFocus($('answer-body'), () => {
      $('answer-body').replaceChildren(...answerParts(entry));
    });
  }

  function answerParts(entry) {
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
        : renderCard(entry, result));
    } else if (isHints(result)) {
      parts.push(renderHints(result));
    }
    parts.push(el('div', { class: 'actions-row' },
      el('button', { type: 'button', class: 'secondary', 'data-focus-key': 'send-again', onclick: () => resend(entry.id) }, 'Send again')));
    parts.push(jsonFigure('Answer JSON', answer === null ? undefined : answer));
    parts.push(el('details', { class: 'sent' }, el('summary', { text: 'Request sent' }),
      el('p', { class: 'meta', text: `to ${entry.endpoint_url}` }),
      jsonFigure('Request JSON', entry.sent)));
    return parts;
  }

  /** The confirmation card, as Pillar's web panel shows it. */
  function renderCard(entry, result) {
    const eyebrowId = uid('card');
    const title = typeof result.title === 'string' && result.title ? result.title : entry.tool_name;
    return el('section', { class: 'card', 'aria-labelledby': eyebrowId },
      el('p', { class: 'eyebrow', id: eyebrowId, text: 'Confirmation required' }),
      el('h3', { class: 'card-title', text: title }),
      result.message !== undefined ? el('p', { class: 'card-message', text: valueText(result.message) }) : null,
      renderDetails(result.details),
      el('div', { class: 'card-buttons' },
        el('button', { type: 'button', class: 'primary', 'data-focus-key': 'confirm', onclick: () => confirmCard(entry, result) }, 'Confirm'),
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

  // ---------------------------------------------------------------------------------
  // History
  // ---------------------------------------------------------------------------------

  async function refreshHistory() {
    try {
      const { entries } = await api('GET', '/console/api/history');
      renderHistory(Array.isArray(entries) ? entries : []);
    } catch (error) {
      showApiError(error);
    }
  }

  function renderHistory(entries) {
    $('history-empty').hidden = entries.length > 0;
    preserveFocus($('history-list'), () => {
      $('history-list').replaceChildren(...entries.map(historyItem));
    });
  }

  function entryOutcome(entry) {
    if (entry.error) return 'no answer';
    if (isObject(entry.answer) && entry.answer.success === true) {
      return isConfirmation(entry.answer.result) ? 'asks for confirmation' : 'succeeded';
    }
    return 'failed';
  }

  function historyItem(entry) {
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
        entry.error ? [el('dt', { text: 'Error' }), el('dd', { text: entry.error })] : null),
      jsonFigure(`Request #${entry.id}`, entry.sent),
      jsonFigure(`Answer #${entry.id}`, entry.answer === null ? undefined : entry.answer),
      el('button', {
        type: 'button', class: 'secondary small', 'aria-label': `Send again #${entry.id}`,
        'data-focus-key': `history-send-${entry.id}`, onclick: () => resend(entry.id),
      }, 'Send again'));
    return el('li', {}, details);
  }

  // ---------------------------------------------------------------------------------
  // Start-up
  // ---------------------------------------------------------------------------------

  function start() {
    token = takeToken();
    if (!token) {
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
      if (!token) return;
      loadState();
      refreshHistory();
    });
    $('call-form').addEventListener('submit', onSubmit);
    $('call-form').addEventListener('input', (event) => {
      if (event.target === $('json-text')) form.jsonEdited = true;
      else updatePreview();
    });
    $('call-form').addEventListener('change', updatePreview);
    $('json-mode').addEventListener('change', setJsonMode);
    $('caller-channel').addEventListener('change', updateChannelWarning);
    // Pasting the printed URL again (a new token after a restart) takes effect at once.
    window.addEventListener('hashchange', () => {
      if (new URLSearchParams(location.hash.replace(/^#/, '')).get('token')) start();
    });
  }

  wire();
  start();
})();
