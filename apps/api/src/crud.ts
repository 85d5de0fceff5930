import type { IncomingMessage } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { PrismaClient } from '@switchboard/db';
import type { FastifyInstance, FastifyRequest, RawServerDefault, RouteGenericInterface } from 'fastify';
import { type TObject, Type } from 'typebox';
import { Value } from 'typebox/value';
import { type Tx, writeAudit } from './audit.ts';
import { principalOf } from './auth/authenticate.ts';
import type { Identified, ModelOf } from './delegate.ts';
import { clearDependants, type Dependant } from './dependants.ts';
import { DependantsProblem, forbidden, notFound, notFoundField, PROBLEM_CONTENT_TYPE } from './errors.ts';
import { type ListSpec, listArgs, listQuerySchema, PageOf, paginate } from './list.ts';
import { type LockSpec, lockOnCreate, lockOnDelete, lockOnUpdate } from './locks.ts';
import { NoContent } from './schemas.ts';
import { type Where, within } from './tenancy.ts';
import type { Principal, Role } from './types.ts';

/**
 * The five routes every provisioning resource has (list, read, create, update, delete), written once.
 * A resource declares its schemas, who may read and write it, its tenant scope and how a request body
 * becomes database data; this module does validation wiring, tenant checks, transactions and audit.
 */

export { type Identified, including, type Loaded, type ModelDelegate, type ModelOf } from './delegate.ts';

export const Id = Type.String({ format: 'uuid', description: 'Resource identifier (UUID)' });
export const IdParams = Type.Object({ id: Id });

const ForceQuery = Type.Object({
  force: Type.Optional(
    Type.Boolean({ description: 'Also delete (and audit) every record that depends on this one' }),
  ),
});
const FORCED_DELETE_TIMEOUT_MS = 120_000;

/**
 * The body a route with body schema `S` receives: `Static<S>` for a concrete schema. Spelled the way the
 * type provider resolves it, so that inside the generic factory, where `S` is still a type parameter, the
 * validated `request.body` is this type without a cast.
 */
export type BodyOf<S extends TObject> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  IncomingMessage,
  { body: S },
  TypeBoxTypeProvider
>['body'];

export type Verb = 'list' | 'read' | 'create' | 'update' | 'delete';

export interface CrudContext {
  tx: Tx;
  prisma: PrismaClient;
  principal: Principal;
  request: FastifyRequest;
  params: Record<string, string>;
}

export interface ParentSpec {
  /** Path parameter carrying the parent id, e.g. `groupId`. */
  param: string;
  /** The child's foreign-key field. */
  field: string;
  model: ModelOf;
  label: string;
  readScope(p: Principal): Where;
  writeScope?(p: Principal): Where;
}

/**
 * `Row` is what the model's delegate reads (its columns, plus relations when the spec uses `including`);
 * `Create` and `Update` are the body schemas, so the mappers get `Static<Create>` and `Static<Update>`.
 */
export interface CrudSpec<
  Row extends Identified = Identified,
  Create extends TObject = TObject,
  Update extends TObject = TObject,
> {
  /** Collection path relative to /api/v1, e.g. `/subscribers` or `/peering-groups/:groupId/gateways`. */
  path: string;
  /** REST resource name written to the audit log. */
  entity: string;
  /** Human name of one record, for summaries and operation ids: `subscriber`. */
  singular: string;
  tag: string;
  /**
   * The Prisma model delegate: `(db) => db.subscriber`; for rows with relations,
   * `...including((db) => db.subscriber, include)`, which also sets `include`.
   */
  model: ModelOf<Row>;
  item: TObject;
  create?: Create;
  update?: Update;
  /** The create response when it reveals a one-time secret; defaults to `item`. */
  createResponse?: TObject;
  list: ListSpec;
  readRoles: readonly Role[];
  writeRoles: readonly Role[];
  /**
   * Body fields that only some of the write roles may set, on create and on update: limits, routing policy
   * and service status belong to whoever provides the service. Any other write role naming one gets 403.
   */
  fieldRoles?: Readonly<Record<string, readonly Role[]>>;
  /**
   * Records that depend on this one, leaves first. A delete with dependants is refused (409) unless forced
   * with `?force=true`; see dependants.ts.
   */
  dependants?: readonly Dependant[];
  /** A state field (status, enabled) whose locked value belongs to the role that set it; see locks.ts. */
  lock?: LockSpec;
  readScope(p: Principal): Where;
  writeScope?(p: Principal): Where;
  parent?: ParentSpec;
  /** Relations read with every row; set together with `model` by `including`. */
  include?: object;
  verbs?: readonly Verb[];
  /**
   * Maps a row to its response shape when the row is not already that shape; the principal is the
   * reader, for fields that depend on who looks (a withheld caller of a CDR).
   */
  toItem?(row: Row, principal: Principal): Identified;
  /** The create data for the delegate, and fields shown once in the response (a generated password). */
  toCreateData?(ctx: CrudContext, body: BodyOf<Create>): Promise<{ data: object; reveal?: object }>;
  /** The update data; without it the body is the data. */
  toUpdateData?(ctx: CrudContext, body: BodyOf<Update>, existing: Row): Promise<{ data: object }>;
}

const pascal = (s: string) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** Finds the parent record within the principal's scope or answers 404. */
export async function requireParent(
  db: Tx | PrismaClient,
  parent: ParentSpec,
  principal: Principal,
  id: string,
  write: boolean,
): Promise<Identified> {
  const scope = write && parent.writeScope ? parent.writeScope(principal) : parent.readScope(principal);
  const row = await parent.model(db).findFirst({ where: within(scope, { id }) });
  if (row === null) throw notFound(parent.label);
  return row;
}

/** Finds a record by id within a scope or answers 404, for handlers outside the factory. */
export async function requireVisible<Row>(
  db: Tx | PrismaClient,
  model: ModelOf<Row>,
  scope: Where,
  id: string,
  label: string,
  field?: string,
): Promise<Row> {
  const row = await model(db).findFirst({ where: within(scope, { id }) });
  if (row === null) throw field === undefined ? notFound(label) : notFoundField(label, field);
  return row;
}

/**
 * The fields of a validated body, for the checks that go by field name (`fieldRoles`, locks). Every CRUD
 * body schema is an object, so the fallback never applies; it lets a body whose type is still generic pass.
 */
const fieldsOf = (body: unknown): object => (typeof body === 'object' && body !== null ? body : {});

/** 403 naming every body field the principal's role may not set (`CrudSpec.fieldRoles`). */
export function checkFieldRoles(
  fieldRoles: CrudSpec['fieldRoles'],
  principal: Principal,
  body: object,
): void {
  if (fieldRoles === undefined) return;
  const denied = Object.entries(body)
    .filter(([field, value]) => value !== undefined && fieldRoles[field]?.includes(principal.role) === false)
    .map(([field]) => field);
  if (denied.length === 0) return;
  throw forbidden(
    `A ${principal.role} may not set ${denied.join(', ')}`,
    denied.map((field) => ({
      field: `/body/${field}`,
      message: `a ${principal.role} may not set this field`,
    })),
  );
}

export function registerCrud<Row extends Identified, Create extends TObject, Update extends TObject>(
  fastify: FastifyInstance,
  prisma: PrismaClient,
  spec: CrudSpec<Row, Create, Update>,
): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const verbs = new Set<Verb>(spec.verbs ?? ['list', 'read', 'create', 'update', 'delete']);
  const name = pascal(spec.singular);
  const writeScope = spec.writeScope ?? spec.readScope;
  const toItem = spec.toItem ?? ((row: Row): Identified => row);
  const withInclude = spec.include ? { include: spec.include } : {};
  const parentParams: Record<string, typeof Id> = spec.parent ? { [spec.parent.param]: Id } : {};
  const collectionParams = Type.Object(parentParams);
  const itemParams = Type.Object({ ...parentParams, id: Id });
  const itemPath = `${spec.path}/:id`;
  const label = spec.singular[0]!.toUpperCase() + spec.singular.slice(1);

  const parentCondition = (params: Record<string, string>): Where =>
    spec.parent ? { [spec.parent.field]: params[spec.parent.param] } : {};

  const loadOwn = async (
    db: Tx | PrismaClient,
    principal: Principal,
    params: Record<string, string>,
    write: boolean,
  ) => {
    if (spec.parent) await requireParent(db, spec.parent, principal, params[spec.parent.param]!, write);
    const scope = write ? writeScope(principal) : spec.readScope(principal);
    const row = await spec.model(db).findFirst({
      where: within(scope, { ...parentCondition(params), id: params.id }),
      ...withInclude,
    });
    if (row === null) throw notFound(label);
    return row;
  };

  if (verbs.has('list')) {
    app.get(
      spec.path,
      {
        config: { roles: spec.readRoles },
        schema: {
          tags: [spec.tag],
          operationId: `list${pascal(spec.entity)}`,
          summary: `List ${spec.entity.replace(/-/g, ' ')}`,
          params: collectionParams,
          querystring: listQuerySchema(spec.list),
          response: { 200: PageOf(spec.item) },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const params = request.params;
        if (spec.parent)
          await requireParent(prisma, spec.parent, principal, params[spec.parent.param]!, false);
        const args = listArgs(request.query, spec.list);
        args.where = within(args.where, parentCondition(params));
        const page = await paginate(spec.model(prisma), args, spec.readScope(principal), spec.include);
        return { ...page, items: page.items.map((row) => toItem(row, principal)) };
      },
    );
  }

  if (verbs.has('read')) {
    app.get(
      itemPath,
      {
        config: { roles: spec.readRoles },
        schema: {
          tags: [spec.tag],
          operationId: `get${name}`,
          summary: `Get one ${spec.singular}`,
          params: itemParams,
          response: { 200: spec.item },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const row = await loadOwn(prisma, principal, request.params, false);
        return toItem(row, principal);
      },
    );
  }

  if (verbs.has('create') && spec.create && spec.toCreateData) {
    const toCreateData = spec.toCreateData;
    app.post(
      spec.path,
      {
        config: { roles: spec.writeRoles, creates: true },
        schema: {
          tags: [spec.tag],
          operationId: `create${name}`,
          summary: `Create a ${spec.singular}`,
          params: collectionParams,
          body: spec.create,
          response: { 201: spec.createResponse ?? spec.item },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const params = request.params;
        const result = await prisma.$transaction(async (tx) => {
          if (spec.parent) await requireParent(tx, spec.parent, principal, params[spec.parent.param]!, true);
          const ctx: CrudContext = { tx, prisma, principal, request, params };
          const body = request.body;
          const fields = fieldsOf(body);
          checkFieldRoles(spec.fieldRoles, principal, fields);
          const { data, reveal } = await toCreateData(ctx, body);
          const lockOwner = spec.lock ? lockOnCreate(spec.lock, principal, fields) : {};
          const created = await spec.model(tx).create({
            data: { ...data, ...lockOwner, ...parentCondition(params) },
            ...withInclude,
          });
          await writeAudit(tx, request, {
            action: 'create',
            entity: spec.entity,
            entityId: created.id,
            after: created,
          });
          return { ...toItem(created, principal), ...reveal };
        });
        return reply.code(201).send(result);
      },
    );
  }

  if (verbs.has('update') && spec.update) {
    const toUpdateData =
      spec.toUpdateData ?? (async (_ctx: CrudContext, body: BodyOf<Update>) => ({ data: fieldsOf(body) }));
    app.patch(
      itemPath,
      {
        config: { roles: spec.writeRoles },
        schema: {
          tags: [spec.tag],
          operationId: `update${name}`,
          summary: `Change a ${spec.singular}`,
          params: itemParams,
          body: spec.update,
          response: { 200: spec.item },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const params = request.params;
        return prisma.$transaction(async (tx) => {
          const existing = await loadOwn(tx, principal, params, true);
          const ctx: CrudContext = { tx, prisma, principal, request, params };
          const body = request.body;
          const fields = fieldsOf(body);
          checkFieldRoles(spec.fieldRoles, principal, fields);
          const lockOwner = spec.lock ? lockOnUpdate(spec.lock, principal, fields, existing) : {};
          const { data } = await toUpdateData(ctx, body, existing);
          const updated = await spec.model(tx).update({
            where: { id: params.id },
            data: { ...data, ...lockOwner },
            ...withInclude,
          });
          await writeAudit(tx, request, {
            action: 'update',
            entity: spec.entity,
            entityId: params.id,
            before: existing,
            after: updated,
          });
          return toItem(updated, principal);
        });
      },
    );
  }

  if (verbs.has('delete')) {
    app.delete(
      itemPath,
      {
        config: { roles: spec.writeRoles },
        schema: {
          tags: [spec.tag],
          operationId: `delete${name}`,
          summary: `Delete a ${spec.singular}`,
          params: itemParams,
          ...(spec.dependants ? { querystring: ForceQuery } : {}),
          response: {
            204: NoContent('Deleted'),
            ...(spec.dependants
              ? {
                  409: {
                    description:
                      'Other records depend on this one; repeat with ?force=true to delete them too',
                    content: { [PROBLEM_CONTENT_TYPE]: { schema: DependantsProblem } },
                  },
                }
              : {}),
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const params = request.params;
        const query = request.query;
        // Only a resource with dependants declares ?force; elsewhere the query is not read.
        const force = Value.Check(ForceQuery, query) && query.force === true;
        // A forced delete of a large tenant removes and audits many rows in this one transaction.
        const timeout = spec.dependants ? FORCED_DELETE_TIMEOUT_MS : undefined;
        await prisma.$transaction(
          async (tx) => {
            const existing = await loadOwn(tx, principal, params, true);
            if (spec.lock) lockOnDelete(spec.lock, principal, existing);
            if (spec.dependants) {
              await clearDependants(tx, request, spec.dependants, params.id!, label, force, principal);
            }
            await spec.model(tx).delete({ where: { id: params.id } });
            await writeAudit(tx, request, {
              action: 'delete',
              entity: spec.entity,
              entityId: params.id,
              before: existing,
            });
          },
          timeout === undefined ? undefined : { timeout },
        );
        return reply.code(204).send();
      },
    );
  }
}
