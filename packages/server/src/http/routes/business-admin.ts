import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Account, AccountId, Page, ServerSettings, ServerSettingsUpdate, User, UserId } from '@tapin/protocol';
import Type from 'typebox';
import type { ServiceContext } from '../../services/context.js';
import * as dir from '../../services/directory.js';
import { requireServer, settingsView, updateSettings } from '../../services/virtual-servers.js';
import { SidParams, bearer, errors } from '../schemas.js';

const List = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  marker: Type.Optional(Type.String({ maxLength: 255 })),
  search: Type.Optional(Type.String({ maxLength: 255 })),
  filter: Type.Optional(Type.String({ maxLength: 255, description: 'Alias of search' })),
});
const UserParams = Type.Object({ sid: SidParams.properties.sid, userid: UserId });
const AccountParams = Type.Object({ sid: SidParams.properties.sid, id: AccountId });
const Attributes = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 1024 }), { maxProperties: 64 });
const NoContent = { 204: Type.Null({ description: 'Done' }) };

/** Server settings, users and accounts (DESIGN §3). */
export const businessAdminRoutes: FastifyPluginAsyncTypebox<{ ctx: ServiceContext }> = async (app, { ctx }) => {
  const s = { security: bearer };

  app.get('/', { schema: { ...s, tags: ['settings'], summary: 'Server settings', params: SidParams, response: { 200: ServerSettings, ...errors } } },
    async (req) => settingsView(await requireServer(ctx, req.params.sid)));
  app.put('/', { schema: { ...s, tags: ['settings'], summary: 'Change server settings (pingTime, pinTimeout, serverFlags such as ENABLE_OTP, …)', params: SidParams, body: ServerSettingsUpdate, response: { 200: ServerSettings, ...errors } } },
    async (req) => updateSettings(ctx, req.params.sid, req.body));

  const userTags = { ...s, tags: ['users'] };
  app.get('/users', { schema: { ...userTags, summary: 'List users (keyset pages: pass the returned marker)', params: SidParams, querystring: List, response: { 200: Page(User), ...errors } } },
    async (req) => dir.listUsers(ctx, req.params.sid, { limit: req.query.limit ?? 100, marker: req.query.marker, search: req.query.search ?? req.query.filter }));
  app.get('/users/:userid', { schema: { ...userTags, summary: 'Get a user', params: UserParams, response: { 200: User, ...errors } } },
    async (req) => dir.getUser(ctx, req.params.sid, req.params.userid));
  app.delete('/users/:userid', { schema: { ...userTags, summary: 'Delete a user (its accounts stay enrolled, unassigned)', params: UserParams, response: { ...NoContent, ...errors } } },
    async (req, reply) => { await dir.deleteUser(ctx, req.params.sid, req.params.userid); return reply.code(204).send(null); });
  app.get('/users/:userid/accounts', { schema: { ...userTags, summary: "A user's accounts", params: UserParams, querystring: List, response: { 200: Page(Account), ...errors } } },
    async (req) => {
      await dir.getUser(ctx, req.params.sid, req.params.userid);
      return dir.listAccounts(ctx, req.params.sid, { limit: req.query.limit ?? 100, marker: req.query.marker, userid: req.params.userid });
    });
  app.delete('/users/:userid/accounts', { schema: { ...userTags, summary: "Delete all of a user's accounts (their logged-in sessions end, watchers get LOGOUT)", params: UserParams, response: { ...NoContent, ...errors } } },
    async (req, reply) => { await dir.deleteUserAccounts(ctx, req.params.sid, req.params.userid); return reply.code(204).send(null); });
  app.get('/users/:userid/attributes', { schema: { ...userTags, summary: "A user's attributes", params: UserParams, response: { 200: Attributes, ...errors } } },
    async (req) => (await dir.getUser(ctx, req.params.sid, req.params.userid)).attributes);
  app.put('/users/:userid/attributes', { schema: { ...userTags, summary: "Replace a user's attributes", params: UserParams, body: Attributes, response: { 200: Attributes, ...errors } } },
    async (req) => dir.setUserAttributes(ctx, req.params.sid, req.params.userid, req.body));
  app.delete('/users/:userid/attributes', { schema: { ...userTags, summary: "Clear a user's attributes", params: UserParams, response: { ...NoContent, ...errors } } },
    async (req, reply) => { await dir.setUserAttributes(ctx, req.params.sid, req.params.userid, {}); return reply.code(204).send(null); });

  const accTags = { ...s, tags: ['accounts'] };
  app.get('/accounts', { schema: { ...accTags, summary: 'List accounts (keyset pages)', params: SidParams, querystring: List, response: { 200: Page(Account), ...errors } } },
    async (req) => dir.listAccounts(ctx, req.params.sid, { limit: req.query.limit ?? 100, marker: req.query.marker }));
  app.get('/accounts/:id', { schema: { ...accTags, summary: 'Get an account', params: AccountParams, response: { 200: Account, ...errors } } },
    async (req) => dir.getAccount(ctx, req.params.sid, req.params.id));
  app.delete('/accounts/:id', { schema: { ...accTags, summary: 'Delete an account (the phone can no longer log in; its logged-in sessions end, watchers get LOGOUT)', params: AccountParams, response: { ...NoContent, ...errors } } },
    async (req, reply) => { await dir.deleteAccount(ctx, req.params.sid, req.params.id); return reply.code(204).send(null); });
  app.put('/accounts/:id', { schema: { ...accTags, summary: 'Block or unblock an account (blocking ends its logged-in sessions, watchers get LOGOUT)', params: AccountParams, body: Type.Object({ blocked: Type.Boolean() }, { additionalProperties: false }), response: { 200: Account, ...errors } } },
    async (req) => dir.setBlocked(ctx, req.params.sid, req.params.id, req.body.blocked));
  app.put('/accounts/:id/user', { schema: { ...accTags, summary: 'Assign the account to a user (null unassigns)', params: AccountParams, body: Type.Object({ userid: Type.Union([UserId, Type.Null()]) }, { additionalProperties: false }), response: { 200: Account, ...errors } } },
    async (req) => dir.assignAccount(ctx, req.params.sid, req.params.id, req.body.userid));
};
