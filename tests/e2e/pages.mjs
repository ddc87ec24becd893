// Page objects for the end-to-end tests: what a person sees and does, by role and label.
// Playwright's locators pierce open shadow roots, so the prompt (mounted by embed.js in a
// shadow root) is found the same way as the page around it.

import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

/** Generous waits: the first prompt load compiles the Wasm on a busy 2-core machine. */
export const PROMPT_TIMEOUT = 15_000;
export const NAVIGATION_TIMEOUT = 20_000;

/** Saves numbered full-page screenshots to $TESSERA_SCREENSHOTS (when set). */
export class Screenshots {
  constructor(dir, prefix) {
    this.dir = dir;
    this.prefix = prefix;
    this.count = 0;
    if (dir) mkdirSync(dir, { recursive: true });
  }

  async take(page, name) {
    if (!this.dir) return;
    this.count += 1;
    const file = `${this.prefix}-${String(this.count).padStart(2, '0')}-${name}.png`;
    await page.screenshot({ path: join(this.dir, file), fullPage: true });
  }
}

/** The demo app's sign-in form (www). */
export class LoginPage {
  constructor(page, baseUrl) {
    this.page = page;
    this.baseUrl = baseUrl;
    this.username = page.getByLabel('Username', { exact: true });
    this.password = page.getByLabel('Password', { exact: true });
    this.signInButton = page.getByRole('button', { name: 'Sign in', exact: true });
  }

  async goto() {
    await this.page.goto(`${this.baseUrl}/`);
    await this.username.waitFor({ state: 'visible' });
  }

  async signIn(username, password) {
    await this.username.fill(username);
    await this.password.fill(password);
    await this.signInButton.click();
  }
}

/** The Tessera prompt embedded in the demo app's "Verify it's you" page. */
export class PromptPage {
  constructor(page) {
    this.page = page;
    this.host = page.locator('#tessera-prompt');
    this.passcode = this.host.getByLabel('Passcode', { exact: true });
    this.verifyButton = this.host.getByRole('button', { name: 'Verify', exact: true });
    this.alert = this.host.getByRole('alert');
    this.bypassCode = this.host.getByLabel('Bypass code', { exact: true });
    this.bypassOption = this.host.getByTestId('other-options').getByRole('button', { name: 'Enter a bypass code' });
  }

  /**
   * Waits until the prompt has mounted and shows the bypass-code form, choosing it under
   * "Other options" unless the prompt opened on it (the method this browser used last).
   * Returns whether it opened there.
   */
  async openBypassCode() {
    await this.bypassCode.or(this.bypassOption).first().waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
    const opened = await this.bypassCode.isVisible();
    if (!opened) await this.bypassOption.click();
    await this.bypassCode.waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
    return opened;
  }

  async submitBypassCode(code) {
    await this.bypassCode.fill(code);
    await this.verifyButton.click();
  }

  /**
   * Waits until the prompt has mounted and shows the passcode screen, choosing the
   * passcode under "Other options" when the prompt opened on a more secure method (alice's
   * Verified Push).
   */
  async waitForPasscodeScreen() {
    const passcodeOption = this.host.locator('button[data-method=passcode]');
    await this.passcode.or(passcodeOption).first().waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
    if (!(await this.passcode.isVisible())) await passcodeOption.click();
    await this.passcode.waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
    await this.verifyButton.waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
  }

  async submitPasscode(code) {
    await this.passcode.fill(code);
    await this.verifyButton.click();
  }

  /** Waits for an alert whose text matches `pattern` and returns the text. */
  async alertMatching(pattern, timeout = PROMPT_TIMEOUT) {
    const alert = this.alert.filter({ hasText: pattern });
    await alert.first().waitFor({ state: 'visible', timeout });
    return (await alert.first().innerText()).trim();
  }
}

/** The demo app's page after a completed sign-in. */
export class SignedInPage {
  constructor(page) {
    this.page = page;
  }

  heading(text) {
    return this.page.getByText(text).first();
  }

  async waitForSignedIn(text) {
    await this.heading(text).waitFor({ state: 'visible', timeout: NAVIGATION_TIMEOUT });
  }
}

/**
 * Host pages for the prompt, served over real loopback HTTP by the test itself (Chromium's
 * local-network rules refuse a page that did not come from loopback, such as one
 * fulfilled by Playwright, access to the local edge). `pages` maps a path to its HTML.
 */
export async function serveHostPages(pages) {
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    if (path === '/favicon.ico') {
      response.writeHead(204).end();
      return;
    }
    const html = pages.get(path);
    response.writeHead(html ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html ?? 'not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${server.address().port}`;
  return { origin, close: () => new Promise((resolve) => server.close(resolve)) };
}

/**
 * A page that shows one prompt screen through `Tessera.preview` (made-up data, no edge
 * calls), served by [`serveHostPages`]; embed.js, the Wasm and the stylesheet come from
 * the real edge.
 */
export class PreviewPage {
  static html(edgeUrl) {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera prompt preview</title></head>
<body><main><h1>Tessera prompt preview</h1><div id="preview"></div></main>
<script src="${edgeUrl}/prompt/v1/embed.js"></script></body></html>`;
  }

  constructor(page, pageUrl) {
    this.page = page;
    this.pageUrl = pageUrl;
  }

  async open() {
    await this.page.goto(this.pageUrl);
    await this.page.waitForFunction(() => globalThis.Tessera?.preview);
  }

  /** Replaces the preview with `screen` in `lang` and waits until it is styled. */
  async show(screen, lang) {
    await this.page.evaluate(async ({ screen, lang }) => {
      const element = document.getElementById('preview');
      element.replaceChildren();
      await globalThis.Tessera.preview(element, { screen, lang });
    }, { screen, lang });
    await this.page.locator('#preview section.tessera').waitFor({ state: 'visible', timeout: PROMPT_TIMEOUT });
    await this.page.waitForFunction(() => {
      const root = document.querySelector('#preview [data-tessera-prompt]')?.shadowRoot;
      const section = root?.querySelector('section.tessera');
      return section && getComputedStyle(section).maxInlineSize !== 'none';
    }, null, { timeout: PROMPT_TIMEOUT });
  }
}
