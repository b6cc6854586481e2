import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { AccordError } from '../errors.js';

/**
 * How many items a field can return, for the cost estimate.
 * - a number: the field never returns more than that many;
 * - `{ argument, default, max }`: as many as the `argument` asks for (its default when absent,
 *   and `max` when it is a variable or larger than `max`). `max` must be the bound the resolver
 *   itself enforces, or the estimate is not an upper bound.
 */
export type ListSize = number | { readonly argument: string; readonly default: number; readonly max: number };

/** The limits an operation must stay within; every one is checked before execution. */
export interface OperationLimits {
  /** Deepest field nesting, root fields being depth 1, counted through fragments. */
  readonly maxDepth: number;
  /**
   * Estimated field resolutions in the worst case: every field costs 1 and an object field
   * returning a list multiplies its selection by the list's size (see `listSizes`).
   */
  readonly maxCost: number;
  /** Aliased fields, counted through fragments (a fragment spread twice counts twice). */
  readonly maxAliases: number;
  /** Fields selected at the root of one operation, counted through fragments. */
  readonly maxRootFields: number;
  /** Directives used by one operation, counted through fragments. */
  readonly maxDirectives: number;
  /** Lexical tokens in the document: enforced by the graphql-js parser, before any other work. */
  readonly maxTokens: number;
  /** Comments in the document (not counted as tokens by graphql-js, so bounded on their own). */
  readonly maxComments: number;
  /** Size of an HTTP request body; enforced by the HTTP layer before the body is parsed. */
  readonly maxBodyBytes: number;
  /** List sizes by `Type.field` (a list field not named here counts `defaultListSize` items). */
  readonly listSizes: Readonly<Record<string, ListSize>>;
  /** Items assumed for a list field that `listSizes` does not name. */
  readonly defaultListSize: number;
}

export type OperationLimitName = 'depth' | 'cost' | 'aliases' | 'rootFields' | 'directives' | 'tokens' | 'comments' | 'bodySize';

export interface OperationLimitOptions extends Partial<Omit<OperationLimits, 'listSizes'>> {
  /** Merged over the default list sizes (so one entry can be changed without restating the rest). */
  readonly listSizes?: Readonly<Record<string, ListSize>>;
  /**
   * Production mode (the default): messages name the limit only. Otherwise (demo) they also
   * state the measured value and the configured limit. In production a client learns which
   * limit it hit, not how far it can push.
   */
  readonly production?: boolean;
}

/** Items a Subject list may hold: a person known to every partner, with a long history. */
const subjectListSize = 100;

/**
 * Defaults sized for real partner traffic, with headroom (figures from
 * test/graphql/operation-limits.test.ts):
 * - the full subject query (all six lists, every field, `owner` and `sharedUnder`, through
 *   fragments) has depth 4, cost 20,708 and 119 tokens, so two such subjects fit in one request
 *   (a child and a parent: 41,416) and three do not;
 * - a DPO audit page of 500 events with every field, records included: depth 6, cost 40,501;
 * - the agreements screen (200 agreements, every field): cost 28,212;
 * - GraphiQL's introspection query is left to graphql-js's own MaxIntrospectionDepthRule;
 * - 1,000 tokens is eight times the full subject query. The token limit also bounds graphql-js's
 *   OverlappingFieldsCanBeMerged rule, which is quadratic in fields sharing a response name and
 *   runs in the same validation pass as these rules (docs/security.md gives the measured worst
 *   case). Publishing 1,000 items needs variables, as partner systems send them anyway;
 * - 4 MiB of body holds a 1,000-item publish averaging 4 KB an item.
 */
export const defaultOperationLimits: OperationLimits = Object.freeze({
  maxDepth: 8,
  maxCost: 50_000,
  maxAliases: 20,
  maxRootFields: 10,
  maxDirectives: 20,
  maxTokens: 1_000,
  maxComments: 200,
  maxBodyBytes: 4 * 1024 * 1024,
  defaultListSize: 10,
  listSizes: Object.freeze({
    'Query.organisations': 200,
    'Query.agreements': 200,
    // 600, so a DPO's report selecting every field, records and their agreements included
    // (cost ~65 per event), stays inside maxCost.
    'Query.subjectAccessReport': 600,
    // The page is sized by `first`; its edges are then one per event, not a further multiple.
    'Query.auditEvents': { argument: 'first', default: 50, max: 500 },
    'AuditEventConnection.edges': 1,
    // An event is one request x person x owner x action (CONTRACT §7): typically a few records,
    // each allowed by one or two agreements. An estimate for the cost rule, never a truncation.
    'AuditEvent.records': 5,
    'AuditRecord.agreements': 2,
    'Subject.demographics': subjectListSize,
    'Subject.socialCareCases': subjectListSize,
    'Subject.schoolEnrolments': subjectListSize,
    'Subject.housingTenancies': subjectListSize,
    'Subject.policeNotifications': subjectListSize,
    'Subject.gpRegistrations': subjectListSize,
  } satisfies Record<string, ListSize>),
});

const limitLabels: Readonly<Record<OperationLimitName, string>> = {
  depth: 'query depth exceeds',
  cost: 'query cost exceeds',
  aliases: 'query aliases exceed',
  rootFields: 'query root fields exceed',
  directives: 'query directives exceed',
  tokens: 'query tokens exceed',
  comments: 'query comments exceed',
  bodySize: 'request body size exceeds',
};

/**
 * The QUERY_TOO_COMPLEX error for one limit. The message names the limit; the measured value
 * and the configured limit are added only when `revealLimits` is on (never in production mode).
 */
export function queryTooComplex(
  limit: OperationLimitName,
  options: { readonly revealLimits: boolean; readonly actual?: number | undefined; readonly max?: number | undefined },
): AccordError {
  const base = `${limitLabels[limit]} the limit`;
  if (!options.revealLimits || options.max === undefined) return new AccordError('QUERY_TOO_COMPLEX', base);
  const actual = options.actual === undefined ? '' : `${formatCount(options.actual)} > `;
  return new AccordError('QUERY_TOO_COMPLEX', `${base} (${actual}${formatCount(options.max)})`);
}

function formatCount(n: number): string {
  return Number.isFinite(n) ? String(n) : 'unbounded';
}

export function resolveOperationLimits(options: OperationLimitOptions = {}): OperationLimits {
  const { production: _production, listSizes, ...rest } = options;
  const limits: OperationLimits = {
    ...defaultOperationLimits,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    listSizes: Object.freeze({ ...defaultOperationLimits.listSizes, ...listSizes }),
  };
  for (const key of ['maxDepth', 'maxCost', 'maxAliases', 'maxRootFields', 'maxDirectives', 'maxTokens', 'maxComments', 'maxBodyBytes', 'defaultListSize'] as const) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`operation limit ${key} must be a non-negative integer`);
  }
  return Object.freeze(limits);
}

/** What one selection set (or fragment) adds up to. */
interface Measure {
  readonly depth: number;
  readonly cost: number;
  readonly aliases: number;
  readonly directives: number;
  /** Fields at this level (through fragments), which is what counts as root fields at the root. */
  readonly fields: number;
}

const zero: Measure = { depth: 0, cost: 0, aliases: 0, directives: 0, fields: 0 };

function add(a: Measure, b: Measure): Measure {
  return {
    depth: Math.max(a.depth, b.depth),
    cost: a.cost + b.cost,
    aliases: a.aliases + b.aliases,
    directives: a.directives + b.directives,
    fields: a.fields + b.fields,
  };
}

/**
 * Measures operations of one document. Each fragment is measured once and the result reused at
 * every spread, so a document whose fragments fan out exponentially (`...A` spreading `...B`
 * twice, and so on) is measured in time linear in its size while its counts grow as execution
 * would. A fragment met again while it is being measured (a cycle, which graphql-js's
 * NoFragmentCyclesRule reports in the same validation pass) counts as empty.
 */
class OperationMeasurer {
  private readonly fragmentMeasures = new Map<string, Measure | 'measuring'>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    private readonly limits: OperationLimits,
  ) {}

  measureOperation(operation: OperationDefinitionNode): Measure {
    const rootType = this.schema.getRootType(operation.operation) ?? undefined;
    const variableDirectives = (operation.variableDefinitions ?? []).reduce((n, v) => n + (v.directives?.length ?? 0), 0);
    const body = this.measureSelectionSet(operation.selectionSet, rootType);
    return { ...body, directives: body.directives + (operation.directives?.length ?? 0) + variableDirectives };
  }

  private measureSelectionSet(selectionSet: SelectionSetNode, parentType: GraphQLNamedType | undefined): Measure {
    let total = zero;
    for (const selection of selectionSet.selections) {
      switch (selection.kind) {
        case Kind.FIELD:
          total = add(total, this.measureField(selection, parentType));
          break;
        case Kind.INLINE_FRAGMENT: {
          const type = selection.typeCondition === undefined ? parentType : this.schema.getType(selection.typeCondition.name.value);
          const inner = this.measureSelectionSet(selection.selectionSet, type);
          total = add(total, { ...inner, directives: inner.directives + (selection.directives?.length ?? 0) });
          break;
        }
        case Kind.FRAGMENT_SPREAD: {
          const inner = this.measureFragment(selection.name.value);
          total = add(total, { ...inner, directives: inner.directives + (selection.directives?.length ?? 0) });
          break;
        }
      }
    }
    return total;
  }

  private measureFragment(name: string): Measure {
    const known = this.fragmentMeasures.get(name);
    if (known === 'measuring') return zero;
    if (known !== undefined) return known;
    const fragment = this.fragments.get(name);
    if (fragment === undefined) return zero; // KnownFragmentNamesRule reports it
    this.fragmentMeasures.set(name, 'measuring');
    const inner = this.measureSelectionSet(fragment.selectionSet, this.schema.getType(fragment.typeCondition.name.value));
    const measure = { ...inner, directives: inner.directives + (fragment.directives?.length ?? 0) };
    this.fragmentMeasures.set(name, measure);
    return measure;
  }

  private measureField(node: FieldNode, parentType: GraphQLNamedType | undefined): Measure {
    const own = { aliases: node.alias === undefined ? 0 : 1, directives: node.directives?.length ?? 0, fields: 1 };
    const name = node.name.value;
    // Introspection is bounded by graphql-js's MaxIntrospectionDepthRule (part of the specified
    // rules Apollo always runs) and refused outright in production; its cost is in-memory schema
    // walking, so it is left out of depth and cost rather than forcing limits up to fit
    // GraphiQL's introspection query. Its aliases, directives and root fields still count.
    if (name.startsWith('__')) {
      const inner = node.selectionSet === undefined ? zero : this.measureSelectionSet(node.selectionSet, undefined);
      return { depth: 0, cost: 0, aliases: own.aliases + inner.aliases, directives: own.directives + inner.directives, fields: 1 };
    }
    const field = fieldOf(parentType, name);
    if (node.selectionSet === undefined) return { depth: 1, cost: 1, ...own };
    const inner = this.measureSelectionSet(node.selectionSet, field === undefined ? undefined : getNamedType(field.type));
    // An unknown field fails validation anyway (FieldsOnCorrectTypeRule); counting it once keeps
    // that the error a client sees first, rather than an inflated cost.
    const items = parentType === undefined || field === undefined ? 1 : this.itemsOf(parentType, field, node);
    return {
      depth: 1 + inner.depth,
      cost: 1 + items * inner.cost,
      aliases: own.aliases + inner.aliases,
      directives: own.directives + inner.directives,
      fields: 1,
    };
  }

  /** How many times a field's selection runs per parent object. */
  private itemsOf(parentType: GraphQLNamedType, field: GraphQLField<unknown, unknown>, node: FieldNode): number {
    const size = this.limits.listSizes[`${parentType.name}.${field.name}`];
    if (size === undefined) return isListType(getNullableType(field.type)) ? this.limits.defaultListSize : 1;
    if (typeof size === 'number') return size;
    const argument = node.arguments?.find((a) => a.name.value === size.argument);
    if (argument === undefined) return size.default;
    // A variable's value is unknown at validation (and validated documents are cached across
    // requests), so it counts as the most the resolver will return.
    if (argument.value.kind !== Kind.INT) return size.max;
    return Math.min(Math.max(Number(argument.value.value), 0), size.max);
  }
}

function fieldOf(type: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

/**
 * Validation rules (for Apollo's `validationRules`) that refuse, before execution, an operation
 * over the depth, cost, alias, root-field or directive limit, with one QUERY_TOO_COMPLEX error
 * per limit exceeded. Tokens and comments are bounded by `operationLimitParseOptions` and the
 * body size by the HTTP layer (`maxBodyBytes`).
 *
 * Apollo rewrites the code of every validation error to GRAPHQL_VALIDATION_FAILED; the original
 * AccordError is kept as `originalError`, and `queryTooComplexErrorOf` recovers it in formatError.
 */
export function createOperationLimitRules(options: OperationLimitOptions = {}): ValidationRule[] {
  const limits = resolveOperationLimits(options);
  const revealLimits = options.production === false;
  const checks: readonly [OperationLimitName, keyof Measure, number][] = [
    ['depth', 'depth', limits.maxDepth],
    ['cost', 'cost', limits.maxCost],
    ['aliases', 'aliases', limits.maxAliases],
    ['rootFields', 'fields', limits.maxRootFields],
    ['directives', 'directives', limits.maxDirectives],
  ];
  const operationLimitsRule = (context: ValidationContext): ASTVisitor => {
    let measurer: OperationMeasurer | undefined;
    return {
      OperationDefinition(operation) {
        if (measurer === undefined) {
          const fragments = new Map<string, FragmentDefinitionNode>();
          for (const definition of context.getDocument().definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION && !fragments.has(definition.name.value)) fragments.set(definition.name.value, definition);
          }
          measurer = new OperationMeasurer(context.getSchema(), fragments, limits);
        }
        const measure = measurer.measureOperation(operation);
        for (const [limit, key, max] of checks) {
          if (measure[key] <= max) continue;
          const cause = queryTooComplex(limit, { revealLimits, actual: measure[key], max });
          context.reportError(
            new GraphQLError(cause.message, { nodes: [operation], originalError: cause, extensions: { code: cause.code } }),
          );
        }
        // The measurer has walked the operation already; nothing below needs this rule.
        return false;
      },
    };
  };
  return [operationLimitsRule];
}

/** Options for the graphql-js parser (Apollo's `parseOptions`): tokens and comments bounded. */
export function operationLimitParseOptions(options: OperationLimitOptions = {}): ParseOptions {
  const limits = resolveOperationLimits(options);
  // `maxLexicalTokens` is graphql 16.12+'s name for the older `maxTokens` (deprecated alias).
  return { maxLexicalTokens: limits.maxTokens, maxComments: limits.maxComments };
}

/**
 * graphql-js's messages when the parser stops at a limit (16.x; "more that" is its spelling).
 * test/graphql/operation-limits.test.ts pins them, so an upgrade that rewords them fails there.
 */
const parserLimitMessages: readonly [RegExp, OperationLimitName][] = [
  [/^Syntax Error: Document contains more th(?:an|at) \d+ tokens\. Parsing aborted\.$/, 'tokens'],
  [/^Syntax Error: Document contains more th(?:an|at) \d+ comments\. Parsing aborted\.$/, 'comments'],
];

/**
 * The QUERY_TOO_COMPLEX error behind an error Apollo reports, if it is one: a limit rule's
 * validation error (Apollo wraps it and keeps ours as `originalError`), or the parser stopping
 * at the token or comment limit. For the one formatError: `queryTooComplexErrorOf(error, ...) ??
 * unwrapResolverError(error)`.
 */
export function queryTooComplexErrorOf(error: unknown, options: OperationLimitOptions = {}): AccordError | undefined {
  let current: unknown = error;
  // Followed by `originalError` rather than `instanceof GraphQLError`, so it holds whichever copy
  // of graphql (CommonJS or ESM) built the error.
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if (current instanceof AccordError) return current.code === 'QUERY_TOO_COMPLEX' ? current : undefined;
    for (const [pattern, limit] of parserLimitMessages) {
      if (!pattern.test(current.message)) continue;
      const limits = resolveOperationLimits(options);
      return queryTooComplex(limit, {
        revealLimits: options.production === false,
        max: limit === 'tokens' ? limits.maxTokens : limits.maxComments,
      });
    }
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** Everything the GraphQL and HTTP layers need from one set of limit options. */
export interface OperationLimitsSetup {
  readonly limits: OperationLimits;
  /** For ApolloServer `validationRules`. */
  readonly validationRules: ValidationRule[];
  /** For ApolloServer `parseOptions`. */
  readonly parseOptions: ParseOptions;
  /** For the HTTP layer's body reader. */
  readonly maxBodyBytes: number;
  /** For formatError; see `queryTooComplexErrorOf`. */
  errorOf(error: unknown): AccordError | undefined;
  /** The error for a request body over `maxBodyBytes` (HTTP 400). */
  bodyTooLarge(): AccordError;
}

/**
 * One call for the server wiring:
 * `const limits = createOperationLimits({ production: config.mode === 'production' })`, then
 * `new ApolloServer({ validationRules: limits.validationRules, parseOptions: limits.parseOptions,
 * allowBatchedHttpRequests: false, ... })`. (Apollo Server 5 already refuses a JSON array body
 * with 400 "Operation batching disabled." when `allowBatchedHttpRequests` is false, its default;
 * stating it keeps it visible.)
 */
export function createOperationLimits(options: OperationLimitOptions = {}): OperationLimitsSetup {
  const limits = resolveOperationLimits(options);
  const revealLimits = options.production === false;
  return {
    limits,
    validationRules: createOperationLimitRules(options),
    parseOptions: operationLimitParseOptions(options),
    maxBodyBytes: limits.maxBodyBytes,
    errorOf: (error) => queryTooComplexErrorOf(error, options),
    bodyTooLarge: () => queryTooComplex('bodySize', { revealLimits, max: limits.maxBodyBytes }),
  };
}
