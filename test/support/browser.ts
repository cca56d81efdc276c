import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's chromium, driven by playwright-core — never a downloaded browser. The flags keep it from reaching for
 * the network, which this machine does not have.
 */
export const CHROMIUM = process.env['TAPIN_CHROMIUM'] ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
