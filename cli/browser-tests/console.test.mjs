// Browser tests of the `pillar dev` console, with Node's own test runner:
//
//   node --test --test-reporter=spec console.test.mjs      (or ./run.sh)
//
// They start three real processes: `pillar dev` (the local stand-in for Pillar Cloud),
// the quickstart example server and the console fixture server, which both register
// with it; then drive the console in Chromium (playwright-core, no test framework) and
// save a screenshot of each step to <repo>/target/console-screenshots/.
//
// Binaries: PILLAR_BIN, QUICKSTART_BIN, FIXTURE_BIN (default: the debug builds under
// <repo>/target/debug), Chromium: CHROMIUM_BIN (default /usr/bin/chromium).
//
// No fixed sleeps: every wait is for an event (a line of output, a response, an element)
// with a timeout that fails the test and says what was awaited.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const binary = (variable, relative) => path.resolve(HERE, process.env[variable] || relative);
const PILLAR_BIN = binary('PILLAR_BIN', '../../target/debug/pillar');
const QUICKSTART_BIN = binary('QUICKSTART_BIN', '../../target/debug/examples/quickstart');
const FIXTURE_BIN = binary('FIXTURE_BIN', '../../target/debug/console_fixture');
const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const SHOTS = path.join(REPO, 'target', 'console-screenshots');

const START_MS = 60_000; // a process's expected output (a debug build starting on a busy machine)
const UI_MS = 20_000; // one element or response in the page
const TEST_MS = 120_000;
const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const TOOLS = {
  quickstart: ['lookup_customer', 'list_plans', 'upgrade_plan'],
  fixture: ['delete_project', 'deletions'],
};

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------

/** A child process whose output is kept, to wait for lines and to show on failure. */
class Child {
  constructor(name, command, args, env) {
    this.name = name;
    this.stdout = '';
    this.stderr = '';
    this.exited = null;
    this.spawnError = null;
    this.listeners = new Set();
    this.proc = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.done = new Promise((resolve) => {
      this.proc.once('close', (code, signal) => {
        this.exited = { code, signal };
        this.notify();
        resolve();
      });
    });
    this.proc.once('error', (error) => {
      this.spawnError = error;
      this.notify();
    });
    this.proc.stdout.setEncoding('utf8').on('data', (text) => { this.stdout += text; this.notify(); });
    this.proc.stderr.setEncoding('utf8').on('data', (text) => { this.stderr += text; this.notify(); });
  }

  notify() {
    for (const listener of [...this.listeners]) listener();
  }

  output() {
    return `----- ${this.name} stdout -----\n${this.stdout}\n----- ${this.name} stderr -----\n${this.stderr}`;
  }

  /**
   * Resolves with check(stdout) once it is truthy; fails after timeoutMs, or when this
   * process or one of `others` exits first, with the output so far.
   */
  waitFor(what, check, timeoutMs = START_MS, others = []) {
    const watched = [this, ...others];
    const outputs = () => watched.map((child) => child.output()).join('\n');
    return new Promise((resolve, reject) => {
      const timeout = AbortSignal.timeout(timeoutMs);
      let onTimeout = null;
      const poll = () => {
        const found = check(this.stdout);
        if (found) return finish(resolve, found);
        const dead = watched.find((child) => child.spawnError || child.exited);
        if (!dead) return undefined;
        const why = dead.spawnError ? `could not start (${dead.spawnError.message})`
          : `exited (code ${dead.exited.code}, signal ${dead.exited.signal})`;
        return finish(reject, new Error(`${dead.name} ${why} while waiting for ${what}\n${outputs()}`));
      };
      const finish = (settle, value) => {
        timeout.removeEventListener('abort', onTimeout);
        for (const child of watched) child.listeners.delete(poll);
        settle(value);
      };
      onTimeout = () => finish(reject,
        new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${this.name}\n${outputs()}`));
      timeout.addEventListener('abort', onTimeout);
      for (const child of watched) child.listeners.add(poll);
      poll();
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  async stop() {
    if (this.exited || this.spawnError || this.proc.pid === undefined) return;
    this.proc.kill('SIGTERM');
    const escalate = AbortSignal.timeout(5000);
    const kill = () => this.proc.kill('SIGKILL');
    escalate.addEventListener('abort', kill);
    await this.done;
    escalate.removeEventListener('abort', kill);
  }
}

/** A port that was free a moment ago: listen on port 0, read it, close. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------
// Shared state of the run
// ---------------------------------------------------------------------------------------

const run = {
  dev: null, quickstart: null, fixture: null,
  consoleUrl: '', base: '', port: 0, token: '',
  quickstartUrl: '', fixtureUrl: '',
  apiUrl: '', secret: '', extra: [], // extra: servers started by a test, stopped at the end
  context: null, userDataDir: '',
  pageProblems: [], // uncaught page errors and CSP violations, from every page
};

/** GET or POST on the console's API from Node, with the token unless told otherwise. */
async function api(method, pathname, body, headers = { 'X-Pillar-Console-Token': run.token }) {
  const response = await fetch(`${run.base}${pathname}`, {
    method,
    headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(UI_MS),
  });
  return { status: response.status, body: await response.json() };
}

/** A raw request with any headers, Host included (which fetch does not let us set). */
function rawRequest(method, pathname, headers, body) {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1', port: run.port, method, path: pathname, headers, timeout: UI_MS,
    }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, text }));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer to ${method} ${pathname}`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** The fixture's deletion counter, read through the console's API as the page would. */
async function deletions() {
  const { status, body } = await api('POST', '/console/api/call', {
    endpoint_url: run.fixtureUrl, tool_name: 'deletions', arguments: {}, caller: { channel: 'web' },
  });
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.answer && body.answer.success, true, JSON.stringify(body));
  return body.answer.result.count;
}

// ---------------------------------------------------------------------------------------
// Page helpers
// ---------------------------------------------------------------------------------------

async function openPage(url) {
  const page = await run.context.newPage();
  page.setDefaultTimeout(UI_MS);
  page.on('pageerror', (error) => run.pageProblems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      run.pageProblems.push(`console: ${message.text()}`);
    }
  });
  await page.goto(url);
  return page;
}

/** A page of the console, opened with the printed URL, once the tools are listed. */
async function openConsole() {
  const page = await openPage(run.consoleUrl);
  await tools(page).getByRole('button', { name: 'lookup_customer', exact: true }).waitFor();
  return page;
}

const tools = (page) => page.getByRole('navigation', { name: 'Tools' });
const toolButton = (page, name) => tools(page).getByRole('button', { name, exact: true });
const argumentsGroup = (page) => page.getByRole('group', { name: 'Arguments', exact: true });
const answerRegion = (page) => page.getByRole('region', { name: 'Answer', exact: true });
const callButton = (page) => page.getByRole('button', { name: 'Call', exact: true });

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Waits for the console API's answer to `pathname` while `act` runs; its JSON. */
async function answerTo(page, pathname, act) {
  const response = page.waitForResponse((r) => new URL(r.url()).pathname === pathname);
  await act();
  const answered = await response;
  const body = await answered.json();
  assert.equal(answered.status(), 200, `${pathname} answered ${answered.status()}: ${JSON.stringify(body)}`);
  return body;
}

/** Runs shell lines (copied from the page) with `pillar` on PATH and PILLAR_SECRET set. */
function runShell(lines) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pillar-console-shell-'));
  try {
    return execFileSync('bash', ['-c', lines], {
      cwd: dir, encoding: 'utf8', timeout: UI_MS,
      env: { ...process.env, PILLAR_SECRET: run.secret, PATH: `${path.dirname(PILLAR_BIN)}:${process.env.PATH}` },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The text the page put on the clipboard when `act` ran. */
async function copied(page, act) {
  await page.evaluate(() => navigator.clipboard.writeText(''));
  await act();
  let text = '';
  for (let i = 0; i < 100 && !text; i += 1) {
    text = await page.evaluate(() => navigator.clipboard.readText());
    if (!text) await page.waitForTimeout(50);
  }
  assert.ok(text, 'the page copied nothing');
  return text;
}

/** A quickstart server on `port`, registered with `pillar dev`, as the n-th registration from it. */
async function startQuickstart(port, registration) {
  const url = `http://127.0.0.1:${port}/`;
  const child = new Child(`quickstart on ${port} (#${registration})`, QUICKSTART_BIN, [], {
    PILLAR_ADDR: `127.0.0.1:${port}`, PILLAR_API_URL: run.apiUrl, PILLAR_ENDPOINT_URL: url, PILLAR_SECRET: run.secret,
  });
  run.extra.push(child);
  await run.dev.waitFor(`registration ${registration} from ${url}`, (out) => {
    const lines = (out.match(/^registered .*$/gm) || []).filter((line) => line.includes(`from ${url}`));
    return lines.length >= registration;
  }, START_MS, [child]);
  return child;
}

const isFocused = (locator) => locator.evaluate((node) => node === document.activeElement);

/** Presses Tab until `locator` has the focus (keyboard only: no click). */
async function tabTo(page, locator, maxPresses = 150) {
  await locator.waitFor();
  for (let i = 0; i < maxPresses; i += 1) {
    if (await isFocused(locator)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${locator} did not get the focus after ${maxPresses} Tab presses`);
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

describe('pillar dev console', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    for (const [variable, file] of [['PILLAR_BIN', PILLAR_BIN], ['QUICKSTART_BIN', QUICKSTART_BIN], ['FIXTURE_BIN', FIXTURE_BIN]]) {
      assert.ok(fs.existsSync(file), `${file} does not exist: build it (cargo build -p pillar-ai-server-cli --bin pillar `
        + '-p pillar-integration-tests --bin console_fixture -p pillar-examples --example quickstart) '
        + `or set ${variable}`);
    }
    const quickstartPort = await freePort();
    let fixturePort = await freePort();
    while (fixturePort === quickstartPort) fixturePort = await freePort();
    run.quickstartUrl = `http://127.0.0.1:${quickstartPort}/`;
    run.fixtureUrl = `http://127.0.0.1:${fixturePort}/`;

    run.dev = new Child('pillar dev', PILLAR_BIN, ['dev', '--port', '0', '--endpoint-url', run.quickstartUrl], {});
    const printed = await run.dev.waitFor('the console URL and the server variables', (out) => {
      const consoleLine = /^Console: (http:\/\/127\.0\.0\.1:(\d+))\/#token=([0-9a-f]{64})$/m.exec(out);
      const apiUrl = /^ {2}export PILLAR_API_URL=(\S+)$/m.exec(out);
      const endpointUrl = /^ {2}export PILLAR_ENDPOINT_URL=(\S+)$/m.exec(out);
      const secret = /^ {2}export PILLAR_SECRET=(plr_dev_[0-9a-f]+)$/m.exec(out);
      return consoleLine && apiUrl && endpointUrl && secret
        && { consoleLine, apiUrl: apiUrl[1], endpointUrl: endpointUrl[1], secret: secret[1] };
    });
    run.consoleUrl = printed.consoleLine[0].slice('Console: '.length);
    run.base = printed.consoleLine[1];
    run.port = Number(printed.consoleLine[2]);
    run.token = printed.consoleLine[3];
    run.apiUrl = printed.apiUrl;
    run.secret = printed.secret;
    assert.equal(printed.apiUrl, run.base);
    assert.equal(printed.endpointUrl, run.quickstartUrl);

    const serverEnv = (port) => ({
      PILLAR_ADDR: `127.0.0.1:${port}`,
      PILLAR_API_URL: printed.apiUrl,
      PILLAR_ENDPOINT_URL: `http://127.0.0.1:${port}/`,
      PILLAR_SECRET: printed.secret,
    });
    run.quickstart = new Child('quickstart', QUICKSTART_BIN, [], serverEnv(quickstartPort));
    run.fixture = new Child('console_fixture', FIXTURE_BIN, [], serverEnv(fixturePort));
    await run.dev.waitFor('both registrations', (out) => {
      const lines = out.match(/^registered .*$/gm) || [];
      return [run.quickstartUrl, run.fixtureUrl].every((url) => lines.some((line) => line.includes(url)));
    }, START_MS, [run.quickstart, run.fixture]);

    const { status, body } = await api('GET', '/console/api/state');
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.endpoints.map((e) => e.endpoint_url).sort(), [run.quickstartUrl, run.fixtureUrl].sort());

    run.userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pillar-console-chromium-'));
    // `chromium.launch` refuses --user-data-dir in args: a persistent context takes it.
    run.context = await chromium.launchPersistentContext(run.userDataDir, {
      executablePath: CHROMIUM_BIN, headless: true, args: LAUNCH_ARGS,
    });
  }, { timeout: 3 * 60_000 });

  after(async () => {
    if (run.context) await run.context.close().catch(() => {});
    await Promise.all([...run.extra, run.fixture, run.quickstart, run.dev].filter(Boolean).map((c) => c.stop()));
    const logs = [run.dev, run.quickstart, run.fixture, ...run.extra].filter(Boolean).map((c) => c.output()).join('\n');
    if (fs.existsSync(SHOTS)) fs.writeFileSync(path.join(SHOTS, 'processes.log'), logs);
    if (run.userDataDir) fs.rmSync(run.userDataDir, { recursive: true, force: true });
  });

  test('1. lists the tools of both servers, grouped by endpoint', { timeout: TEST_MS }, async () => {
    const page = await openConsole();
    try {
      assert.equal(new URL(page.url()).hash, '', 'the token is taken out of the address bar');
      const quickstart = tools(page).getByRole('region', { name: run.quickstartUrl, exact: true });
      const fixture = tools(page).getByRole('region', { name: run.fixtureUrl, exact: true });
      for (const name of TOOLS.quickstart) await quickstart.getByRole('button', { name, exact: true }).waitFor();
      for (const name of TOOLS.fixture) await fixture.getByRole('button', { name, exact: true }).waitFor();
      assert.equal(await tools(page).locator('.tool-button').count(), 5);
      assert.equal(await tools(page).getByRole('button', { name: /^Remove http/ }).count(), 2);

      await toolButton(page, 'upgrade_plan').click();
      const panel = page.getByRole('region', { name: 'upgrade_plan', exact: true });
      await panel.getByText('Only when the user asks to change a plan; quote the new price.', { exact: true }).waitFor();
      await panel.getByText('Move a customer to another plan.', { exact: false }).first().waitFor();
      assert.equal(await toolButton(page, 'upgrade_plan').getAttribute('aria-current'), 'true');
      await panel.getByText('Input schema', { exact: true }).click();
      await panel.locator('pre').filter({ hasText: '"enterprise"' }).waitFor();
      await argumentsGroup(page).getByLabel('plan', { exact: true }).waitFor();
      await screenshot(page, '01-tools');

      // A reload keeps working: the token is in sessionStorage.
      await page.reload();
      await toolButton(page, 'delete_project').waitFor();
    } finally {
      await page.close();
    }
  });

  test('2. a call from the generated form shows the result and the status', { timeout: TEST_MS }, async () => {
    const page = await openConsole();
    try {
      await toolButton(page, 'lookup_customer').click();
      await argumentsGroup(page).getByLabel('email', { exact: true }).fill('sarah@acme.com');
      await page.getByRole('figure', { name: 'Arguments JSON' }).filter({ hasText: '"email": "sarah@acme.com"' }).waitFor();
      const entry = await answerTo(page, '/console/api/call', () => callButton(page).click());
      assert.equal(entry.action, 'tool_call');
      assert.equal(entry.status, 200);
      assert.deepEqual(entry.sent.arguments, { email: 'sarah@acme.com' });
      assert.equal(entry.sent.caller.channel, 'web');
      assert.equal(entry.answer.success, true, JSON.stringify(entry.answer));

      const answer = answerRegion(page);
      await answer.getByText('Succeeded', { exact: true }).waitFor();
      await answer.getByText('HTTP 200', { exact: true }).waitFor();
      await answer.getByRole('figure', { name: 'Answer JSON' }).filter({ hasText: 'Sarah Connor' }).waitFor();
      const history = page.getByRole('region', { name: 'History', exact: true });
      await history.getByText(`#${entry.id}`, { exact: true }).waitFor();
      await screenshot(page, '02-lookup-customer');

      // A tool without parameters: an empty form, and the call sends `{}`.
      await toolButton(page, 'list_plans').click();
      await page.getByRole('region', { name: 'list_plans', exact: true }).waitFor();
      const plans = await answerTo(page, '/console/api/call', () => callButton(page).click());
      assert.deepEqual(plans.sent.arguments, {});
      assert.equal(plans.answer.success, true, JSON.stringify(plans.answer));
      assert.deepEqual(plans.answer.result.map((plan) => plan.id), ['free', 'pro', 'enterprise']);
      await answer.getByRole('figure', { name: 'Answer JSON' }).filter({ hasText: '"monthly_usd": 499' }).waitFor();
      await screenshot(page, '02b-list-plans');
    } finally {
      await page.close();
    }
  });

  test('3. a confirmation card: Cancel sends nothing, Confirm runs once, Send again does not run twice', { timeout: TEST_MS }, async () => {
    const page = await openConsole();
    try {
      await toolButton(page, 'delete_project').click();
      await argumentsGroup(page).getByLabel('project_id', { exact: true }).fill('p_42');
      const answer = answerRegion(page);
      const card = answer.getByRole('region', { name: 'Confirmation required' });

      // Cancel: the card goes, nothing is sent.
      await answerTo(page, '/console/api/call', () => callButton(page).click());
      await card.waitFor();
      const sent = [];
      const onRequest = (request) => { if (request.url().includes('/console/api/confirm')) sent.push(request.url()); };
      page.on('request', onRequest);
      await card.getByRole('button', { name: 'Cancel', exact: true }).click();
      await answer.getByText('Cancelled: nothing was sent.', { exact: true }).waitFor();
      await card.waitFor({ state: 'detached' });
      page.off('request', onRequest);
      assert.deepEqual(sent, []);
      assert.equal(await deletions(), 0);

      // The card, as Pillar shows it.
      const call = await answerTo(page, '/console/api/call', () => callButton(page).click());
      assert.equal(call.answer.result.confirmation_required, true, JSON.stringify(call.answer));
      await card.getByRole('heading', { name: 'Delete project', exact: true }).waitFor();
      await card.getByText('Delete project p_42? This cannot be undone.', { exact: true }).waitFor();
      const details = card.getByRole('table', { name: 'Details' });
      await details.getByRole('rowheader', { name: 'Project', exact: true }).waitFor();
      await details.getByRole('cell', { name: 'p_42', exact: true }).waitFor();
      const confirm = card.getByRole('button', { name: 'Confirm', exact: true });
      assert.ok(await isFocused(confirm), 'the card\'s Confirm button has the focus');
      await screenshot(page, '03-confirmation-card');

      // Confirm: a tool_confirm with the card's payload; the display hints show.
      const confirmed = await answerTo(page, '/console/api/confirm', () => confirm.click());
      assert.equal(confirmed.action, 'tool_confirm');
      assert.equal(confirmed.of, call.id);
      assert.notEqual(confirmed.call_id, call.call_id);
      assert.deepEqual(confirmed.sent.confirm_payload, { project_id: 'p_42' });
      assert.equal(confirmed.answer.success, true, JSON.stringify(confirmed.answer));
      await card.waitFor({ state: 'detached' });
      await answer.getByText('Project p_42 deleted.', { exact: true }).waitFor();
      const link = answer.getByRole('link', { name: 'View projects', exact: true });
      assert.equal(await link.getAttribute('href'), 'https://app.example.com/projects');
      assert.equal(await link.getAttribute('target'), '_blank');
      assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
      assert.equal(await deletions(), 1);
      await screenshot(page, '04-confirmed');

      // Send again: the same body and call id; the server answers without running again.
      const resent = await answerTo(page, '/console/api/resend',
        () => answer.getByRole('button', { name: 'Send again', exact: true }).click());
      assert.equal(resent.resent_of, confirmed.id);
      assert.equal(resent.call_id, confirmed.call_id);
      assert.deepEqual(resent.sent, confirmed.sent);
      assert.deepEqual(resent.answer, confirmed.answer);
      await answer.getByText(new RegExp(`^Re-sent of #${confirmed.id}:`)).waitFor();
      await answer.getByText('Project p_42 deleted.', { exact: true }).waitFor();
      await answer.getByRole('link', { name: 'View projects', exact: true }).waitFor();
      assert.equal(await deletions(), 1);
      await screenshot(page, '05-sent-again');
    } finally {
      await page.close();
    }
  });

  test('4. arguments from the raw JSON editor: not JSON is caught, a bad value shows the SDK\'s error', { timeout: TEST_MS }, async () => {
    const page = await openConsole();
    try {
      await toolButton(page, 'lookup_customer').click();
      await page.getByRole('checkbox', { name: 'Edit as JSON', exact: true }).check();
      const editor = page.getByRole('textbox', { name: 'Arguments as JSON', exact: true });
      await argumentsGroup(page).waitFor({ state: 'hidden' });

      const calls = [];
      page.on('request', (request) => { if (request.url().includes('/console/api/call')) calls.push(request.url()); });
      await editor.fill('{"email": ');
      await callButton(page).click();
      await page.getByRole('alert').filter({ hasText: 'The arguments are not JSON' }).waitFor();
      assert.deepEqual(calls, [], 'nothing is sent when the editor does not hold JSON');
      await screenshot(page, '06-not-json');

      await editor.fill('{"email": 42}');
      const entry = await answerTo(page, '/console/api/call', () => callButton(page).click());
      assert.deepEqual(entry.sent.arguments, { email: 42 });
      assert.equal(entry.status, 200);
      assert.equal(entry.answer.success, false, JSON.stringify(entry.answer));
      assert.match(entry.answer.error, /email/);
      const answer = answerRegion(page);
      await answer.getByText('Failed', { exact: true }).waitFor();
      await answer.getByText(entry.answer.error, { exact: true }).waitFor();
      await screenshot(page, '07-argument-error');

      await editor.fill('{}');
      const missing = await answerTo(page, '/console/api/call', () => callButton(page).click());
      assert.equal(missing.answer.success, false, JSON.stringify(missing.answer));
      await answer.getByText(missing.answer.error, { exact: true }).waitFor();
    } finally {
      await page.close();
    }
  });

  test('5. the whole flow with the keyboard alone', { timeout: TEST_MS }, async () => {
    const page = await openConsole();
    try {
      const { keyboard } = page;
      await tabTo(page, toolButton(page, 'upgrade_plan'));
      await keyboard.press('Enter');
      await page.getByRole('region', { name: 'upgrade_plan', exact: true }).waitFor();
      const args = argumentsGroup(page);
      const email = args.getByLabel('email', { exact: true });
      await tabTo(page, email);
      await keyboard.type('li@globex.com');
      const plan = args.getByLabel('plan', { exact: true });
      await tabTo(page, plan);
      await keyboard.type('pro');
      assert.equal(await plan.evaluate((select) => select.selectedOptions[0].textContent), 'pro');
      await page.getByRole('figure', { name: 'Arguments JSON' })
        .filter({ hasText: '"plan": "pro"' }).filter({ hasText: '"email": "li@globex.com"' }).waitFor();
      await screenshot(page, '08-keyboard-form');

      await tabTo(page, callButton(page));
      const call = await answerTo(page, '/console/api/call', () => keyboard.press('Enter'));
      assert.equal(call.answer.result.confirmation_required, true, JSON.stringify(call.answer));
      const answer = answerRegion(page);
      const confirm = answer.getByRole('region', { name: 'Confirmation required' })
        .getByRole('button', { name: 'Confirm', exact: true });
      await tabTo(page, confirm); // the page moves the focus there: no Tab needed
      await screenshot(page, '09-keyboard-card');

      const confirmed = await answerTo(page, '/console/api/confirm', () => keyboard.press('Space'));
      assert.equal(confirmed.answer.success, true, JSON.stringify(confirmed.answer));
      assert.equal(confirmed.answer.result.to, 'pro');
      await answer.getByText('Succeeded', { exact: true }).waitFor();
      await answer.getByRole('figure', { name: 'Answer JSON' }).filter({ hasText: '"to": "pro"' }).waitFor();

      await tabTo(page, answer.getByRole('button', { name: 'Send again', exact: true }));
      const resent = await answerTo(page, '/console/api/resend', () => keyboard.press('Enter'));
      assert.equal(resent.resent_of, confirmed.id);
      await answer.getByText(new RegExp(`^Re-sent of #${confirmed.id}:`)).waitFor();
      await screenshot(page, '10-keyboard-done');
    } finally {
      await page.close();
    }
  });

  test('6. the API refuses a missing token, another origin and another host', { timeout: TEST_MS }, async () => {
    const missing = await api('GET', '/console/api/state', undefined, {});
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error, 'missing_token');
    assert.equal(typeof missing.body.message, 'string');

    const wrong = await api('GET', '/console/api/state', undefined, { 'X-Pillar-Console-Token': '0'.repeat(64) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'bad_token');

    const token = { 'X-Pillar-Console-Token': run.token };
    const origin = await rawRequest('GET', '/console/api/state', { ...token, Origin: 'http://evil.example' });
    assert.equal(origin.status, 403, origin.text);
    assert.equal(JSON.parse(origin.text).error, 'forbidden_origin');

    // A cross-origin POST (what a malicious page could send) runs nothing.
    const body = JSON.stringify({ endpoint_url: run.fixtureUrl, tool_name: 'deletions', arguments: {} });
    const post = await rawRequest('POST', '/console/api/call',
      { ...token, Origin: 'http://evil.example', 'Content-Type': 'application/json' }, body);
    assert.equal(post.status, 403, post.text);

    const host = await rawRequest('GET', '/console/api/state', { ...token, Host: `evil.example:${run.port}` });
    assert.equal(host.status, 403, host.text);
    assert.equal(JSON.parse(host.text).error, 'forbidden_host');
    const page = await rawRequest('GET', '/', { Host: `evil.example:${run.port}` });
    assert.equal(page.status, 403, page.text);

    const allowed = await api('GET', '/console/api/state');
    assert.equal(allowed.status, 200);
  });

  test('7. without its token the page says how to open it', { timeout: TEST_MS }, async () => {
    const page = await openPage(`${run.base}/`);
    try {
      const notice = page.getByRole('region', { name: 'This console needs its access token', exact: true });
      await notice.filter({ hasText: /Open the URL that pillar dev printed, with its\s+#token=/ }).waitFor();
      assert.equal(await tools(page).count(), 0, 'no tool list without the token');
      await screenshot(page, '11-no-token');
    } finally {
      await page.close();
    }
  });

  test('8. servers: pinged, unreachable since a time, re-registered visibly, removed; refusals name the server', { timeout: TEST_MS }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    let server = await startQuickstart(port, 1);
    // A second quickstart: its tools' names are the first one's, so wait for its entry.
    const page = await openPage(run.consoleUrl);
    try {
      const entry = tools(page).getByRole('region', { name: url, exact: true });
      await entry.getByText(/Answers its ping \(since /).waitFor();
      await entry.getByText(/ · registered at .*, 3 tools/).waitFor();
      await screenshot(page, '12-server-answers');

      // Stopped: the entry says since when it has not answered, and the header counts it.
      await server.stop();
      await entry.getByText(/Not answering since \d/).waitFor();
      await page.getByText(/^Connected: 3 servers registered, 1 not answering$/).waitFor();
      await screenshot(page, '13-server-not-answering');

      // Started again: the new registration replaces the entry, and says so.
      server = await startQuickstart(port, 2);
      await entry.getByText(/re-registered at .*, 3 tools · registration 2, replacing the last/).waitFor();
      await entry.getByText(/Answers its ping \(since /).waitFor();
      assert.equal(await tools(page).getByRole('region', { name: url, exact: true }).count(), 1);
      await screenshot(page, '14-server-re-registered');

      // Removed: gone from the page and from the state, until it registers again.
      await server.stop();
      await answerTo(page, '/console/api/remove', () => entry.getByRole('button', { name: `Remove ${url}`, exact: true }).click());
      await entry.waitFor({ state: 'detached' });
      const { body } = await api('GET', '/console/api/state');
      assert.deepEqual(body.endpoints.map((e) => e.endpoint_url).sort(), [run.quickstartUrl, run.fixtureUrl].sort());
      await page.getByText(/^Connected: 2 servers registered$/).waitFor();

      // A refused registration names the server it came from, and why.
      const refused = await fetch(`${run.base}/api/tools/register/`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer plr_wrong' },
        body: JSON.stringify({ endpoint_url: url, sdk_version: 'by-hand/1', tools: [] }),
      });
      assert.equal(refused.status, 401);
      const list = page.getByRole('region', { name: 'Refused registrations', exact: true });
      await list.getByText(`${url}:`, { exact: false }).waitFor();
      await list.getByText(/wrong or missing bearer secret: start the server with the PILLAR_SECRET/).waitFor();
      assert.equal(await list.getByText('no endpoint URL').count(), 0);
      await screenshot(page, '15-server-removed-and-refused');
    } finally {
      await page.close();
      // The next tests expect the two servers of the run only.
      await server.stop();
      await api('POST', '/console/api/remove', { endpoint_url: url });
    }
  });

  test('9. Ctrl+Enter sends; the signature header is shown; copy as pillar call and as curl run in a shell', { timeout: TEST_MS }, async () => {
    await run.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: run.base });
    const page = await openConsole();
    try {
      await toolButton(page, 'lookup_customer').click();
      const email = argumentsGroup(page).getByLabel('email', { exact: true });
      await email.fill('sarah@acme.com');
      const entry = await answerTo(page, '/console/api/call', () => email.press('Control+Enter'));
      assert.deepEqual(entry.sent.arguments, { email: 'sarah@acme.com' });
      assert.equal(entry.answer.success, true, JSON.stringify(entry.answer));
      assert.match(entry.signature, /^t=\d+,v1=[0-9a-f]{64}$/);

      const answer = answerRegion(page);
      await answer.getByText('Request sent', { exact: true }).click();
      const headers = answer.getByRole('definition').filter({ hasText: /^t=\d+,v1=/ });
      assert.equal(await headers.textContent(), entry.signature);
      await screenshot(page, '16-request-sent-signature');

      const curl = await copied(page, () => answer.getByRole('button', { name: `Copy #${entry.id} as curl`, exact: true }).click());
      await answer.getByText(`Copied the curl lines of #${entry.id}.`, { exact: true }).waitFor();
      assert.match(curl, /-H "X-Pillar-Signature: \$\(pillar sign --body-file call\.json\)"/);
      assert.ok(!curl.includes(entry.signature) && !curl.includes(run.secret), 'no precomputed header, no secret');
      const curlAnswer = JSON.parse(runShell(curl));
      assert.equal(curlAnswer.success, true, JSON.stringify(curlAnswer));
      assert.equal(curlAnswer.call_id, entry.call_id, 'the body as sent');

      const call = await copied(page, () => answer.getByRole('button', { name: `Copy #${entry.id} as pillar call`, exact: true }).click());
      assert.match(call, /^pillar call lookup_customer --url \S+ --args '\{"email":"sarah@acme\.com"\}' --channel web --conversation-id conv_dev$/);
      assert.ok(!call.includes(run.secret));
      const callAnswer = JSON.parse(runShell(call));
      assert.equal(callAnswer.success, true, JSON.stringify(callAnswer));
      assert.match(JSON.stringify(callAnswer.result), /Sarah Connor/);
      assert.notEqual(callAnswer.call_id, entry.call_id, 'pillar call makes a fresh call id');
      await screenshot(page, '17-copied');
    } finally {
      await page.close();
    }
  });

  test('10. load a history entry into the form; history JSON unclipped; a stale answer while the JSON does not parse', { timeout: TEST_MS }, async () => {
    const page = await openConsole();
    try {
      await toolButton(page, 'lookup_customer').click();
      await argumentsGroup(page).getByLabel('email', { exact: true }).fill('sarah@acme.com');
      await page.getByLabel('Caller email', { exact: true }).fill('dev@acme.com');
      await page.getByLabel('Conversation id', { exact: true }).fill('conv_load');
      const entry = await answerTo(page, '/console/api/call', () => callButton(page).click());

      // Another tool, another caller: then load the entry back.
      await toolButton(page, 'list_plans').click();
      await page.getByLabel('Caller email', { exact: true }).fill('');
      await page.getByLabel('Conversation id', { exact: true }).fill('');
      const plans = await answerTo(page, '/console/api/call', () => callButton(page).click());
      const history = page.getByRole('region', { name: 'History', exact: true });
      const item = history.getByRole('listitem').filter({ has: page.getByText(`#${entry.id}`, { exact: true }) });
      await item.getByText(`#${entry.id}`, { exact: true }).click();
      await item.getByRole('button', { name: `Load #${entry.id} into the form`, exact: true }).click();
      await page.getByRole('region', { name: 'lookup_customer', exact: true }).waitFor();
      const editor = page.getByRole('textbox', { name: 'Arguments as JSON', exact: true });
      assert.deepEqual(JSON.parse(await editor.inputValue()), { email: 'sarah@acme.com' });
      assert.equal(await page.getByRole('checkbox', { name: 'Edit as JSON', exact: true }).isChecked(), true);
      assert.equal(await page.getByLabel('Caller email', { exact: true }).inputValue(), 'dev@acme.com');
      assert.equal(await page.getByLabel('Conversation id', { exact: true }).inputValue(), 'conv_load');
      assert.ok(await isFocused(editor), 'the JSON editor has the focus');
      await screenshot(page, '18-loaded-into-form');
      const again = await answerTo(page, '/console/api/call', () => editor.press('Control+Enter'));
      assert.deepEqual(again.sent.arguments, entry.sent.arguments);
      assert.deepEqual(again.sent.caller, entry.sent.caller);
      assert.equal(again.sent.conversation_id, 'conv_load');

      // The history shows each JSON whole: no scroll box, no cut.
      const plansItem = history.getByRole('listitem').filter({ has: page.getByText(`#${plans.id}`, { exact: true }) });
      await plansItem.getByText(`#${plans.id}`, { exact: true }).click();
      const pre = plansItem.getByRole('figure', { name: `Answer #${plans.id}` }).locator('pre');
      await pre.filter({ hasText: '"monthly_usd": 499' }).waitFor();
      const box = await pre.evaluate((node) => ({
        scroll: node.scrollHeight, client: node.clientHeight, max: getComputedStyle(node).maxHeight,
      }));
      assert.equal(box.max, 'none');
      assert.ok(box.scroll <= box.client + 1, `clipped: ${JSON.stringify(box)}`);
      await screenshot(page, '19-history-unclipped');

      // Text that is not JSON: the answer is marked stale, Ctrl+Enter sends nothing.
      const answer = answerRegion(page);
      await editor.fill('{"email": ');
      await answer.getByText(/^Stale: the JSON editor holds text that\s+is not JSON/).waitFor();
      assert.equal(await answer.evaluate((node) => node.classList.contains('stale')), true);
      await page.getByText(/^The arguments are not JSON: /).first().waitFor();
      const calls = [];
      const onRequest = (request) => { if (request.url().includes('/console/api/call')) calls.push(request.url()); };
      page.on('request', onRequest);
      await editor.press('Control+Enter');
      await page.getByRole('alert').filter({ hasText: 'The arguments are not JSON' }).waitFor();
      page.off('request', onRequest);
      assert.deepEqual(calls, []);
      await screenshot(page, '20-stale-answer');
      await editor.fill('{"email": "sarah@acme.com"}');
      await answer.getByText(/^Stale:/).waitFor({ state: 'hidden' });
      assert.equal(await answer.evaluate((node) => node.classList.contains('stale')), false);
    } finally {
      await page.close();
    }
  });

  test('11. no script error and no Content-Security-Policy violation on any page', () => {
    assert.deepEqual(run.pageProblems, []);
  });
});
