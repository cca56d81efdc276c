import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A login in progress: the nonce never leaves this process; the browser sees only the hsid. */
export interface PendingLogin {
  nonce: string;
  hsid: string;
}

/** Who is logged in on this visitor session, as Tapin's getSession said when the login completed. */
export interface LoggedInUser {
  userid: string;
  accountid: string;
  otplogin: boolean;
  /** Kept to log out at Tapin (the phone is told) and to check the login is still alive. */
  nonce: string;
  hsid: string;
  at: number;
  ip: string;
  useragent: string;
}

export interface Signup {
  userid: string;
  enrolUrl: string;
  expires: number;
}

export interface Visitor {
  id: string;
  /** Token for this visitor's form posts (signup, logout): a cross-site form cannot know it. */
  csrf: string;
  seen: number;
  login?: PendingLogin | undefined;
  user?: LoggedInUser | undefined;
  signup?: Signup | undefined;
}

export const COOKIE = 'tapin_demo';
/** Remembers the last username on this browser, for the one-click "send a request to my phone". */
export const REMEMBER_COOKIE = 'tapin_demo_user';
const IDLE_MS = 12 * 3600_000;
const MAX_VISITORS = 10_000;

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    try {
      out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A cookie we did not write; ignore it.
    }
  }
  return out;
}

export function cookie(name: string, value: string, options: { secure: boolean; maxAge?: number }): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (options.secure) parts.push('Secure');
  if (options.maxAge !== undefined) parts.push(`Max-Age=${options.maxAge}`);
  return parts.join('; ');
}

/**
 * Server-side visitor sessions in memory, named by a random 256-bit cookie (HttpOnly, SameSite=Lax). The id is
 * random and looked up here, so it needs no signature; it is replaced at login so that an id planted before the
 * login (session fixation) is worth nothing after it. A real site would keep these in its own session store.
 */
export class Visitors {
  readonly #all = new Map<string, Visitor>();

  constructor(private readonly secure: boolean, private readonly now: () => number = Date.now) {}

  /** The visitor of this request, made (and its cookie set) when there is none. */
  get(req: FastifyRequest, reply: FastifyReply): Visitor {
    const id = parseCookies(req.headers.cookie).get(COOKIE);
    const known = id ? this.#all.get(id) : undefined;
    if (known && this.now() - known.seen < IDLE_MS) {
      known.seen = this.now();
      return known;
    }
    if (known) this.#all.delete(known.id);
    return this.#create(reply);
  }

  /** The visitor of this request if there is one; never sets a cookie. */
  peek(req: FastifyRequest): Visitor | undefined {
    const id = parseCookies(req.headers.cookie).get(COOKIE);
    const v = id ? this.#all.get(id) : undefined;
    return v && this.now() - v.seen < IDLE_MS ? v : undefined;
  }

  /** A fresh id for the same visitor (at login). */
  rotate(visitor: Visitor, reply: FastifyReply): Visitor {
    this.#all.delete(visitor.id);
    const next = this.#create(reply);
    next.signup = visitor.signup;
    return next;
  }

  destroy(visitor: Visitor, reply: FastifyReply): void {
    this.#all.delete(visitor.id);
    void reply.header('set-cookie', cookie(COOKIE, '', { secure: this.secure, maxAge: 0 }));
  }

  #create(reply: FastifyReply): Visitor {
    if (this.#all.size >= MAX_VISITORS) this.#evict();
    const visitor: Visitor = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(24).toString('base64url'), seen: this.now() };
    this.#all.set(visitor.id, visitor);
    void reply.header('set-cookie', cookie(COOKIE, visitor.id, { secure: this.secure }));
    return visitor;
  }

  /** Drops idle visitors, then the oldest, so that a flood of cookie-less requests cannot fill memory. */
  #evict(): void {
    const now = this.now();
    for (const [id, v] of this.#all) if (now - v.seen >= IDLE_MS) this.#all.delete(id);
    for (const id of this.#all.keys()) {
      if (this.#all.size < MAX_VISITORS * 0.9) break;
      this.#all.delete(id);
    }
  }
}
