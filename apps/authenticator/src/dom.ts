/**
 * A few DOM helpers instead of a framework. Everything a server or a site sends (names, announceinfo, session
 * info) goes in as text, never as HTML.
 */
type Child = Node | string | null | undefined | false;
type Props = Record<string, string | number | boolean | ((event: Event) => void) | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, '').toLowerCase(), value);
    else if (key === 'class') el.className = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

const root = () => document.getElementById('screen')!;

/** Replaces the screen and moves the focus to its title; the title is what screen readers and tests look for first. */
export function show(name: string, ...content: Child[]): HTMLElement {
  const screen = root();
  // A message belongs to the screen it was said on.
  for (const old of Array.from(document.querySelectorAll('.toast'))) old.remove();
  screen.replaceChildren(...content.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  screen.dataset['screen'] = name;
  document.body.dataset['screen'] = name;
  screen.scrollTop = 0;
  // Keyboard and screen-reader users start at the top of the new screen, as after a page load: its title (or,
  // while working, its message) takes the focus and is read out; Tab goes on to the screen's first control.
  const start = screen.querySelector<HTMLElement>('h1') ?? screen.querySelector<HTMLElement>('p');
  if (start) {
    start.tabIndex = -1;
    start.focus({ preventScroll: true });
  }
  return screen;
}

export function toast(message: string): void {
  const el = h('div', { class: 'toast', role: 'status' }, message);
  document.body.append(el);
  setTimeout(() => el.remove(), 4000);
}

export function button(label: string, onClick: () => void, kind: 'primary' | 'secondary' | 'danger' | 'link' = 'primary', extra: Props = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: `btn btn-${kind}`, onclick: () => onClick(), ...extra }, label);
}

/** An image only from https: or data:image (site logos are chosen by sites); anything else shows nothing. */
export function logo(url: string | undefined | null, alt: string): HTMLElement | null {
  if (!url) return null;
  let ok = false;
  try {
    const u = new URL(url);
    ok = u.protocol === 'https:' || (u.protocol === 'data:' && /^data:image\/(png|jpeg|gif|webp|svg\+xml)[;,]/.test(url));
  } catch {
    ok = false;
  }
  return ok ? h('img', { class: 'logo', src: url, alt, referrerpolicy: 'no-referrer' }) : null;
}
