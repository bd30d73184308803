// The console's token and its API (`/console/api/...`, see console.rs). The Rust process
// signs every webhook: this page never sees the secret, only the run's token, which
// `pillar dev` prints in the URL's fragment (browsers never send a fragment to servers).

import { isObject } from './schema.js';

const TOKEN_KEY = 'pillar-dev-console-token';
const TOKEN_HEADER = 'X-Pillar-Console-Token';

/** The token in the address bar's `#token=...`, if any. */
export const tokenInHash = () => new URLSearchParams(location.hash.replace(/^#/, '')).get('token');

/** Reads the token from `#token=...` (then drops the hash) or from sessionStorage. */
export function takeToken() {
  const fromHash = tokenInHash();
  if (fromHash) {
    try { sessionStorage.setItem(TOKEN_KEY, fromHash); } catch (_) { /* private mode */ }
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  try { return sessionStorage.getItem(TOKEN_KEY); } catch (_) { return null; }
}

/** Forgets a token the console refused. */
export function forgetToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* ignore */ }
}

/** A failed API call: `status` (0 when nothing answered), the answer's `code`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Whether an error is the console refusing the token. */
export const isRefusedToken = (error) => error instanceof ApiError && error.status === 401;

/** Calls the console's API with `token`; JSON in, JSON out, ApiError on failure. */
export async function request(token, method, path, body) {
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
