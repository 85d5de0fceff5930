import type { Prisma, PrismaClient } from '@switchboard/db';
import type { Tx } from './audit.ts';

/** What the factory needs of every row: its primary key. */
export type Identified = { id: string };

/**
 * The subset of a Prisma model delegate the factory uses, reading rows of type `Row`. Arguments are built
 * at run time (tenant scope, list filters, the resource's include), so they are plain objects.
 */
export interface ModelDelegate<Row = Identified> {
  findMany(args: object): Promise<Row[]>;
  findFirst(args: object): Promise<Row | null>;
  count(args: object): Promise<number>;
  create(args: object): Promise<Row>;
  update(args: object): Promise<Row>;
  delete(args: object): Promise<unknown>;
  updateMany(args: object): Promise<{ count: number }>;
  deleteMany(args: object): Promise<{ count: number }>;
}

/**
 * Picks a model's delegate from the client or from a transaction, e.g. `(db) => db.peeringGroup`: the
 * compiler checks that the model exists and has the operations the factory uses, and infers `Row` (the
 * model's columns) from it.
 */
export type ModelOf<Row = Identified> = (db: Tx | PrismaClient) => ModelDelegate<Row>;

/** The row Prisma returns from delegate `D` read with `include: I`: the columns plus the included relations. */
export type Loaded<D, I> = Prisma.Result<D, { include: I }, 'findFirstOrThrow'>;

/**
 * A model read with relations: the factory passes `include` with every read, create and update of the
 * returned delegate, so its rows are `Loaded<D, I>`. Spread into a CRUD spec: `...including((db) => db.subscriber, include)`.
 */
export function including<D extends ModelDelegate, const I extends object>(
  model: (db: Tx | PrismaClient) => D,
  include: I,
): { model: ModelOf<Loaded<D, I>>; include: I } {
  // The only cast of a delegate. Prisma types a read's rows from the literal arguments of that call; the
  // factory builds its arguments at run time, so the compiler cannot see that the include passed is `I`.
  // Returning `include` with the model keeps the two together: the factory passes it with every read.
  const loaded = model as unknown as ModelOf<Loaded<D, I>>;
  return { model: loaded, include };
}
