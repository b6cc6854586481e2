import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { enforceRecordFields } from '../enforcement/index.js';
import { loadSdl } from './load-sdl.js';
import { agreementResolvers } from './resolvers/agreement-resolvers.js';
import { auditResolvers } from './resolvers/audit-resolvers.js';
import { callerResolvers } from './resolvers/caller-resolvers.js';
import { recordResolvers } from './resolvers/record-resolvers.js';
import { scalarResolvers } from './scalars.js';

/**
 * The executable schema: the SDL of schema/, resolvers that must match it exactly (a resolver
 * for a field the SDL lacks is an error at start-up), then the enforcement transform, which
 * puts every field of every record type behind the caller's decisions.
 */
export function buildSchema(): GraphQLSchema {
  const schema = makeExecutableSchema({
    typeDefs: loadSdl(),
    resolvers: [scalarResolvers, callerResolvers, recordResolvers, agreementResolvers, auditResolvers] as never,
    resolverValidationOptions: {
      requireResolversToMatchSchema: 'error',
      requireResolversForResolveType: 'error',
    },
  });
  return enforceRecordFields(schema);
}
