import { getNamedType, isInterfaceType, isObjectType, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { isEnforcedResolver } from '../../src/enforcement/index.js';
import { buildSchema } from '../../src/graphql/build-schema.js';
import { recordTypeList } from '../../src/records/index.js';

describe('the enforcement transform', () => {
  const schema = buildSchema();
  const recordInterface = schema.getType('Record');
  const implementations = isInterfaceType(recordInterface) ? schema.getImplementations(recordInterface).objects : [];

  it('finds every record type of the catalogue implementing Record, and no other', () => {
    expect(implementations.map((t) => t.name).sort()).toEqual(recordTypeList.map((t) => t.name).sort());
  });

  it('puts every field of every record type behind the decision', () => {
    const unenforced: string[] = [];
    for (const type of implementations) {
      for (const field of Object.values(type.getFields())) {
        if (!isEnforcedResolver(field.resolve)) unenforced.push(`${type.name}.${field.name}`);
      }
    }
    expect(unenforced).toEqual([]);
  });

  it('leaves no path to a record type other than the Subject lists, whose resolvers release through decisions', () => {
    // Any new field returning a record type must be reviewed: list every place one is reachable.
    const reachable: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values((type as GraphQLObjectType).getFields())) {
        const target = getNamedType(field.type);
        if (target.name === 'Record' || implementations.some((t) => t.name === target.name)) reachable.push(`${type.name}.${field.name}`);
      }
    }
    expect(reachable.sort()).toEqual(recordTypeList.map((t) => `Subject.${t.listName}`).sort());
  });
});
