/**
 * @tapin/login-block — the `<tapin-login>` custom element. Importing this module defines the element (once).
 * For pages without a bundler, the same code ships as one file: `@tapin/login-block/bundle`
 * (served by the Tapin server at `/static/tapin-login.js`).
 */
import { TapinLoginElement } from './element.js';

export { TapinLoginElement } from './element.js';
export type { LoginView, TapinLoginDetail } from './element.js';
export type { Grant } from './endpoints.js';
export { STRINGS, type Strings } from './strings.js';

if (typeof customElements !== 'undefined' && !customElements.get('tapin-login')) {
  customElements.define('tapin-login', TapinLoginElement);
}

declare global {
  interface HTMLElementTagNameMap {
    'tapin-login': TapinLoginElement;
  }
}
