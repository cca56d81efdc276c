import type { CompiledQuery, Compilable, Kysely, QueryResult } from 'kysely';
import type { Database } from '../db/tables.js';

/** What a query's builder gets for each argument: a stand-in that the compiled SQL turns into a parameter. */
export type Slots<A> = <K extends keyof A & string>(name: K) => A[K];

const SLOT = '\u0000tapin-slot:';

interface Prepared {
  compiled: CompiledQuery;
  /** For each parameter of the compiled query: the argument it takes, or undefined for a constant. */
  names: (string | undefined)[];
}

/**
 * Hot queries compiled once. Building SQL with Kysely (visiting, freezing, cloning its tree) costs more than
 * SQLite takes to run a primary-key lookup, and a login runs a dozen such queries. Each query is built once per
 * shape (`key`) with stand-ins for its arguments; later calls only put the arguments in place of the stand-ins
 * and execute the SQL text, through the same driver (so group commit and the statement cache still apply).
 */
export class PrecompiledQueries {
  private readonly prepared = new Map<string, Prepared>();

  constructor(private readonly db: Kysely<Database>) {}

  execute<A extends object, R>(key: string, build: (p: Slots<A>) => Compilable<R>, args: A): Promise<QueryResult<R>> {
    let prep = this.prepared.get(key);
    if (!prep) {
      const compiled = build(((name: string) => `${SLOT}${name}`) as Slots<A>).compile();
      const names = compiled.parameters.map((v) => (typeof v === 'string' && v.startsWith(SLOT) ? v.slice(SLOT.length) : undefined));
      // A bounded number of shapes exists (routes × patch shapes), but never let a bug grow this without limit.
      if (this.prepared.size >= 1000) this.prepared.clear();
      this.prepared.set(key, (prep = { compiled, names }));
    }
    const values = args as Record<string, unknown>;
    const { compiled, names } = prep;
    const parameters = compiled.parameters.map((v, i) => (names[i] === undefined ? v : values[names[i]!]));
    return this.db.executeQuery<R>({ ...compiled, parameters } as CompiledQuery<R>);
  }

  async first<A extends object, R>(key: string, build: (p: Slots<A>) => Compilable<R>, args: A): Promise<R | undefined> {
    return (await this.execute(key, build, args)).rows[0];
  }

  async affected<A extends object>(key: string, build: (p: Slots<A>) => Compilable<unknown>, args: A): Promise<number> {
    return Number((await this.execute(key, build, args)).numAffectedRows ?? 0n);
  }
}

/** The stand-ins for a patch's columns (named `prefix` + column), to build its statement once per shape. */
export function slotted<A>(columns: string[], p: Slots<A>, prefix = ''): Record<string, unknown> {
  return Object.fromEntries(columns.map((c) => [c, p(`${prefix}${c}` as keyof A & string)]));
}

/** A patch's shape: the names of the columns it sets (undefined values are left out, as Kysely does). */
export function definedKeys(patch: object): string[] {
  return Object.entries(patch).filter(([, v]) => v !== undefined).map(([k]) => k);
}
