import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { GraphQLError, type GraphQLFieldResolver, type GraphQLSchema, isObjectType } from 'graphql';
import { isRecordType, recordInterfaceFields, type RecordType } from '../records/index.js';
import { isReleasedRecord, type ReleasedRecord } from './record-decision.js';
import type { RequestReleases } from './request-releases.js';

/** Marks a resolver installed by `enforceRecordFields`; the structural test looks for it. */
export const enforcedResolver = Symbol.for('accord.enforcedResolver');

/** What a record field resolver needs from the request context. */
export interface EnforcementContext {
  readonly releases: RequestReleases;
  /** Resolves `owner` (an organisation id) to the GraphQL Organisation object. */
  organisation(id: string): Promise<unknown> | unknown;
}

const interfaceFields: ReadonlySet<string> = new Set(recordInterfaceFields);

export function notSharedError(field: string): GraphQLError {
  // Deliberately says nothing about why (no agreement, wrong purpose, condition not met): the
  // reason could reveal facts about the record the caller may not see.
  return new GraphQLError(`the field "${field}" is not shared with you`, { extensions: { code: 'NOT_SHARED' } });
}

function interfaceValue(record: ReleasedRecord, field: string, context: EnforcementContext): unknown {
  switch (field) {
    case 'id':
      return record.row.id;
    case 'externalId':
      return record.row.externalId;
    case 'owner':
      return context.organisation(record.row.ownerOrg);
    case 'recordType':
      return record.type;
    case 'recordedAt':
      return record.row.recordedAt;
    case 'sharedUnder':
      return record.decision.sharedUnder.map(({ id, version }) => ({ id, version }));
    default:
      throw new TypeError(`unknown Record interface field ${field}`);
  }
}

function enforcedFieldResolver(type: RecordType, field: string): GraphQLFieldResolver<unknown, EnforcementContext> {
  const isInterfaceField = interfaceFields.has(field);
  // Synchronous on purpose: the decision was made once per record when it was loaded, so each
  // field costs a Set lookup, not a promise.
  const resolve: GraphQLFieldResolver<unknown, EnforcementContext> = (source, _args, context) => {
    if (!isReleasedRecord(source) || source.type !== type) {
      // Fail closed: a value that did not come through the decision is never read.
      throw new TypeError(`${type}.${field} resolved on an object that was not released through a decision`);
    }
    if (isInterfaceField) {
      context.releases.released(source, field);
      return interfaceValue(source, field, context);
    }
    if (!source.decision.fields.has(field)) {
      context.releases.withheld(source, field);
      throw notSharedError(field);
    }
    context.releases.released(source, field);
    return source.row[field] ?? null;
  };
  Object.defineProperty(resolve, enforcedResolver, { value: true });
  return resolve;
}

/**
 * Replaces the resolver of every field of every record type (the object types implementing
 * `Record`) with one that goes through the record's decision. Because it rewrites the
 * executable schema itself, every way of reaching a field (aliases, named and inline fragments,
 * the `Record` interface, duplicated selections) runs the same check; no resolver written for
 * these types survives.
 */
export function enforceRecordFields(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName) => {
      const type = schema.getType(typeName);
      if (!isObjectType(type) || !type.getInterfaces().some((i) => i.name === 'Record')) return fieldConfig;
      if (!isRecordType(typeName)) throw new TypeError(`${typeName} implements Record but is not in the record catalogue`);
      return { ...fieldConfig, resolve: enforcedFieldResolver(typeName, fieldName) };
    },
  });
}

export function isEnforcedResolver(resolver: unknown): boolean {
  return typeof resolver === 'function' && (resolver as unknown as Record<symbol, unknown>)[enforcedResolver] === true;
}
