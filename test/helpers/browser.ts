import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Debian's Chromium, headless, driven by puppeteer-core; with the flags that keep it from calling
 * out to the internet (this machine's network is closed). Every console error and page error of
 * its pages is kept in `errors`.
 */
export class TestBrowser {
  readonly errors: string[] = [];
  private constructor(private readonly browser: Browser) {}

  static async launch(): Promise<TestBrowser> {
    const browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    return new TestBrowser(browser);
  }

  async page(url: string): Promise<Page> {
    const page = await this.browser.newPage();
    await page.setViewport({ width: 1400, height: 850 });
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(`${m.text()} (${m.location().url ?? ''})`);
    });
    page.on('pageerror', (e) => this.errors.push(String(e)));
    await page.goto(url, { waitUntil: 'networkidle0' });
    return page;
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}
