import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../auth/authenticate.ts';
import { registerCrud } from '../crud.ts';
import { type ListQuery, type ListSpec, listArgs, listQuerySchema, PageOf, paginate } from '../list.ts';
import { Nullable, Timestamp, Uuid } from '../schemas.ts';
import { scopes } from '../tenancy.ts';
import { ROLES } from '../types.ts';
import type { RouteOptions } from './options.ts';

/**
 * Instant messages (SIP MESSAGE) between subscribers, as sip-core stored them: the history of both
 * sides, with each message's delivery state. Read-only; a customer sees the messages its own
 * subscribers sent or received, a reseller those of its customers.
 */

const everyone = ROLES;

const MessageStatus = Type.Enum(['queued', 'delivered', 'failed'], {
  description:
    'queued: the recipient had no registered device, sent on its next registration; delivered: a device took it; failed: no device took it',
});

export const Message = Type.Object({
  id: Uuid,
  callId: Type.String(),
  senderSubscriberId: Nullable(Uuid),
  senderCustomerId: Nullable(Uuid),
  recipientSubscriberId: Nullable(Uuid),
  recipientCustomerId: Nullable(Uuid),
  fromUri: Type.String({ description: "The sender's address of record" }),
  toUri: Type.String({ description: "The recipient's address of record" }),
  contentType: Type.String(),
  body: Type.String(),
  status: MessageStatus,
  attempts: Type.Integer({ description: 'Delivery attempts made after it was queued' }),
  error: Nullable(Type.String({ description: 'The last failed delivery: SIP status and reason' })),
  createdAt: Timestamp,
  deliveredAt: Nullable(Timestamp),
});

const messageList: ListSpec = {
  sortable: ['createdAt', 'deliveredAt', 'status'],
  defaultSort: '-createdAt',
  filters: {
    from: { type: 'datetime', field: 'createdAt', op: 'gte', description: 'Messages sent at or after' },
    to: { type: 'datetime', field: 'createdAt', op: 'lt', description: 'Messages sent before' },
    status: { type: 'enum', values: ['queued', 'delivered', 'failed'] },
  },
};

const messageExtraQuery = {
  subscriberId: Type.String({ format: 'uuid', description: 'Messages sent or received by this subscriber' }),
  customerId: Type.String({ format: 'uuid', description: 'Messages sent or received by this customer' }),
};

interface MessageQuery extends ListQuery {
  subscriberId?: string;
  customerId?: string;
}

export async function messageRoutes(fastify: FastifyInstance, { prisma }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/messages',
    {
      config: { roles: everyone },
      schema: {
        tags: ['messages'],
        operationId: 'listMessages',
        summary: 'List instant messages',
        description:
          'Newest first unless sorted otherwise; `subscriberId` gives one subscriber’s conversation history.',
        querystring: listQuerySchema(messageList, messageExtraQuery),
        response: { 200: PageOf(Message) },
      },
    },
    async (request) => {
      const q: MessageQuery = request.query;
      const args = listArgs(q, messageList);
      const conditions = [];
      if (q.subscriberId)
        conditions.push({
          OR: [{ senderSubscriberId: q.subscriberId }, { recipientSubscriberId: q.subscriberId }],
        });
      if (q.customerId)
        conditions.push({ OR: [{ senderCustomerId: q.customerId }, { recipientCustomerId: q.customerId }] });
      if (conditions.length > 0) args.where = { AND: [args.where, ...conditions] };
      return paginate(prisma.message, args, scopes.message(principalOf(request)));
    },
  );

  registerCrud(app, prisma, {
    path: '/messages',
    entity: 'messages',
    singular: 'message',
    tag: 'messages',
    model: (db) => db.message,
    item: Message,
    verbs: ['read'],
    list: messageList,
    readRoles: everyone,
    writeRoles: [],
    readScope: scopes.message,
  });
}
