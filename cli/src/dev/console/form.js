// The call form's fields in the DOM, from the description `schema.js` makes of a tool's
// input schema; `editors.js` decides what each input starts with and reads it back.
//
// An editor is {element, read(errors), setLabel(text)}: `read` gives {present: false}
// for a value to leave out or {present: true, value}, and pushes a sentence onto
// `errors` when its input cannot be turned into JSON.

import { el, uid } from './dom.js';
import { describeItem, pretty } from './schema.js';
import {
  checkboxChecked, gatherArray, gatherObject, itemName, numberInput, present, readInput,
  selectChoices, textInput,
} from './editors.js';

/** The editor of a form description (`describeForm`); `onChange` when items come or go. */
export function renderForm(node, onChange) {
  if (node.kind === 'none') {
    return {
      element: el('p', { class: 'empty', text: 'This tool takes no arguments: it is called with {}.' }),
      read: () => present({}),
      setLabel: () => {},
    };
  }
  return render(node, onChange);
}

function render(node, onChange) {
  switch (node.kind) {
    case 'string': return stringEditor(node);
    case 'number':
    case 'integer': return numberEditor(node);
    case 'checkbox': return checkboxEditor(node);
    case 'select': return selectEditor(node);
    case 'object': return objectEditor(node, onChange);
    case 'array': return arrayEditor(node, onChange);
    default: return jsonEditor(node);
  }
}

/**
 * A <label> with the field's name and, when required, a star beside it (outside the
 * label and hidden from assistive technology, so the label is the name alone; the
 * input's `required` says it to screen readers).
 */
function fieldLabel(forId, node) {
  const label = el('label', { for: forId, text: node.name });
  const mark = node.required ? requiredMark() : null;
  return { label, mark, setLabel: (value) => { label.textContent = value; } };
}

const requiredMark = () => el('span', { class: 'required-mark', 'aria-hidden': 'true', title: 'required' }, '*');

/** The hint under an input (description, constraints), linked by aria-describedby. */
function hintFor(input, text) {
  if (!text) return null;
  const hint = el('p', { class: 'hint', id: uid('hint'), text });
  input.setAttribute('aria-describedby', hint.id);
  return hint;
}

/**
 * The common shape of a one-input field: label, input, hint; read by `readInput` from
 * `state` ({value, checked, badInput}: the input itself unless told otherwise).
 */
function simpleField(input, node, state = input) {
  if (node.required) input.required = true;
  const { label, mark, setLabel } = fieldLabel(input.id, node);
  const hint = hintFor(input, node.hint);
  const read = (errors) => readInput(node, state, errors);
  return { element: el('div', { class: 'field' }, label, mark, input, hint), read, setLabel };
}

function stringEditor(node) {
  const { type, placeholder, value } = textInput(node);
  const input = el('input', { id: uid(), type, autocomplete: 'off', spellcheck: 'false', placeholder });
  input.value = value;
  return simpleField(input, node);
}

function numberEditor(node) {
  const { inputmode, min, max, step, value, placeholder } = numberInput(node);
  const input = el('input', { id: uid(), type: 'number', inputmode, min, max, step, placeholder });
  input.value = value;
  // Text that is not a number reads as '': `validity.badInput` tells it from an empty input.
  const state = { get value() { return input.value; }, get badInput() { return input.validity.badInput; } };
  return simpleField(input, node, state);
}

function checkboxEditor(node) {
  const input = el('input', { id: uid(), type: 'checkbox' });
  input.checked = checkboxChecked(node);
  if (node.required) input.required = true;
  const { label, mark, setLabel } = fieldLabel(input.id, node);
  const hint = hintFor(input, node.hint);
  return {
    element: el('div', { class: 'field field-check' }, input, label, mark, hint),
    read: (errors) => readInput(node, input, errors),
    setLabel,
  };
}

/** A <select> over fixed values; the empty choice leaves the field out. */
function selectEditor(node) {
  const { choices, selected } = selectChoices(node);
  const select = el('select', { id: uid() },
    choices.map(({ value, text }) => el('option', { value, text })));
  if (selected) select.value = selected;
  return simpleField(select, node);
}

/** Raw JSON for anything the form cannot model (free-form objects, unions, recursion). */
function jsonEditor(node) {
  const input = el('textarea', { id: uid(), rows: '3', spellcheck: 'false', class: 'json-field' });
  const made = simpleField(input, node);
  if (node.showSchema) {
    made.element.append(el('details', { class: 'sub-schema' },
      el('summary', { text: `Schema of ${node.name}` }), el('pre', { text: pretty(node.schema) })));
  }
  return made;
}

/** A <fieldset> with a legend (the name, a star when required) and the hint. */
function group(node, className, legendText, ...content) {
  return el('fieldset', { class: className },
    el('legend', {}, legendText, node.required ? requiredMark() : null),
    node.hint ? el('p', { class: 'hint', text: node.hint }) : null,
    ...content);
}

/** A <fieldset> of the properties, or (at the root) the properties alone. */
function objectEditor(node, onChange) {
  const children = node.children.map((child) => render(child, onChange));
  const read = (errors) => gatherObject(node, children.map((child) => child.read(errors)));
  const elements = children.map((c) => c.element);
  if (node.root) return { element: el('div', { class: 'fields' }, elements), read, setLabel: () => {} };
  const legendText = el('span', { text: node.name });
  return {
    element: group(node, 'nested', legendText, elements),
    read,
    setLabel: (text) => { legendText.textContent = text; },
  };
}

/** A list of item editors with Add and Remove buttons. */
function arrayEditor(node, onChange) {
  const items = []; // {li, editor, remove}
  const list = el('ol', { class: 'array-items' });
  const legendText = el('span', { text: node.name });
  const nameOf = () => legendText.textContent;

  function relabel() {
    items.forEach((item, i) => {
      item.editor.setLabel(itemName(nameOf(), i));
      item.remove.setAttribute('aria-label', `Remove ${itemName(nameOf(), i)}`);
    });
    empty.hidden = items.length > 0;
  }

  function addItem(focus) {
    const index = items.length;
    const editor = render(describeItem(node, index, itemName(nameOf(), index)), onChange);
    const item = { editor };
    item.remove = el('button', {
      type: 'button', class: 'secondary small',
      onclick: () => {
        item.li.remove();
        items.splice(items.indexOf(item), 1);
        relabel();
        add.focus();
        onChange();
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
    onclick: () => { addItem(true); onChange(); },
  }, 'Add item');
  const setAddLabel = () => add.setAttribute('aria-label', `Add item to ${nameOf()}`);
  setAddLabel();
  for (let i = 0; i < node.initialItems; i++) addItem(false);
  relabel();

  return {
    element: group(node, 'nested array', legendText, list, empty, add),
    read: (errors) => gatherArray(node, items.map((item) => item.editor.read(errors))),
    setLabel: (text) => { legendText.textContent = text; setAddLabel(); relabel(); },
  };
}
