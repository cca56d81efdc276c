import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import type { AxeResults, Result } from 'axe-core';

/**
 * axe-core in the page under test, against WCAG 2.1 A/AA and axe's best practices. It goes in through the DevTools
 * protocol (page.evaluate), not a <script> tag, so the page's CSP (script-src 'self') stays as it ships.
 */
const require = createRequire(import.meta.url);
let source: Promise<string> | undefined;

export interface AxeFinding {
  id: string;
  impact: Result['impact'];
  help: string;
  targets: string[];
}

export async function axeFindings(page: Page): Promise<AxeFinding[]> {
  source ??= readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.evaluate(await source);
  const results = await page.evaluate(() => (window as unknown as { axe: { run(ctx: Document, o: object): Promise<AxeResults> } }).axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    resultTypes: ['violations'],
  }));
  return results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

/** The findings that fail a test: serious and critical ones (contrast, names, labels, …). */
export const blocking = (findings: AxeFinding[]) => findings.filter((f) => f.impact === 'serious' || f.impact === 'critical');
