// Small DOM helpers shared by the page's modules. Every piece of data (tool descriptions,
// answers) is untrusted text: elements are built with createElement and textContent,
// never innerHTML.

import { pretty } from './schema.js';

export const $ = (id) => document.getElementById(id);

/** Makes an element: `props` are attributes, except `class`, `text` and `on<event>`. */
export function el(tag, props = {}, ...children) {
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
/** A fresh element id, unique in the page. */
export const uid = (prefix = 'f') => `${prefix}-${++idCounter}`;

export const time = (ms) => (typeof ms === 'number' ? new Date(ms).toLocaleTimeString() : '');
export const latency = (ms) => (typeof ms === 'number' ? `${ms.toFixed(1)} ms` : '');

/** A <figure> holding pretty-printed JSON, named by its caption. */
export function jsonFigure(caption, value, extraClass = '') {
  const text = value === undefined ? '(nothing)' : pretty(value);
  return el('figure', { class: `json-figure ${extraClass}` },
    el('figcaption', { text: caption }), el('pre', { text }));
}

/** Re-renders a container and gives focus back to the element with the same key. */
export function preserveFocus(container, render) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focusKey : undefined;
  render();
  if (!key) return;
  const again = [...container.querySelectorAll('[data-focus-key]')]
    .find((node) => node.dataset.focusKey === key);
  if (again) again.focus();
}
