import type { ConfirmEnrolRequest, TapinSession } from '@tapin/mobile-sdk';
import { PIN_RE } from '@tapin/mobile-sdk';
import { button, h, logo, show } from '../dom.js';
import { visualHash } from '../visual-hash.js';
import { showWorking } from './result.js';

/** Add this phone to a server: its name, logo and key picture; a device name; the PIN twice. */
export function showEnrol(session: TapinSession, request: ConfirmEnrolRequest, onCancel: () => void): void {
  const { svg, fingerprint } = visualHash(request.serverKey);
  const name = h('input', { id: 'device-name', name: 'device', autocomplete: 'off', maxlength: 64, value: defaultDeviceName() });
  const pin = h('input', { id: 'pin', type: 'password', inputmode: 'numeric', autocomplete: 'new-password', pattern: '[0-9]*', maxlength: 12 });
  const pin2 = h('input', { id: 'pin2', type: 'password', inputmode: 'numeric', autocomplete: 'new-password', pattern: '[0-9]*', maxlength: 12 });
  const error = h('p', { class: 'alert', role: 'alert', hidden: true });
  const fail = (text: string) => {
    error.textContent = text;
    error.hidden = false;
  };
  const submit = () => {
    if (!name.value.trim()) return fail('Give this phone a name, so you can recognise it later.');
    if (!PIN_RE.test(pin.value)) return fail('The PIN must be 4 to 12 digits.');
    if (pin.value !== pin2.value) return fail('The two PINs are not the same.');
    showWorking('Adding this phone…');
    void session.enrol({ pin: pin.value, description: name.value.trim() });
  };
  show('enrol',
    h('section', { class: 'card' },
      logo(request.serverLogo, `${request.serverName} logo`),
      h('p', { class: 'eyebrow' }, 'New account'),
      h('h1', {}, `Add this phone to ${request.serverName}`),
      h('div', { class: 'key-check' }, svg,
        h('div', {}, h('p', { class: 'label' }, 'Server key'), h('p', { class: 'fingerprint', 'data-testid': 'fingerprint' }, fingerprint),
          h('p', { class: 'muted small' }, 'If the site shows a key picture, check that it matches.')))),
    h('form', { class: 'card form', onsubmit: (e) => { e.preventDefault(); submit(); } },
      h('label', { class: 'field', for: 'device-name' }, 'Name of this phone', name),
      h('label', { class: 'field', for: 'pin' }, 'Choose a PIN (4–12 digits)', pin),
      h('label', { class: 'field', for: 'pin2' }, 'Repeat the PIN', pin2),
      error,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add account'),
        button('Cancel', () => onCancel(), 'secondary'))));
}

function defaultDeviceName(): string {
  const ua = navigator.userAgent;
  return /Android/.test(ua) ? 'Android phone' : /iPhone/.test(ua) ? 'iPhone' : /iPad/.test(ua) ? 'iPad' : 'My phone';
}
