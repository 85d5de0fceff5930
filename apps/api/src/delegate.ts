import type { PrismaClient } from '@switchboard/db';
import type { Tx } from './audit.ts';

/** The subset of a Prisma model delegate the factory uses. Arguments are built dynamically per model. */
export interface ModelDelegate {
  findMany(args: object): Promise<Record<string, unknown>[]>;
  findFirst(args: object): Promise<Record<string, unknown> | null>;
  count(args: object): Promise<number>;
  create(args: object): Promise<Record<string, unknown>>;
  update(args: object): Promise<Record<string, unknown>>;
  delete(args: object): Promise<Record<string, unknown>>;
  updateMany(args: object): Promise<{ count: number }>;
  deleteMany(args: object): Promise<{ count: number }>;
}

/**
 * Picks a model's delegate from the client or from a transaction, e.g. `(db) => db.peeringGroup`: the
 * compiler checks that the model exists and has the operations the factory uses.
 */
export type ModelOf = (db: Tx | PrismaClient) => ModelDelegate;
