/**
 * What the sandbox bundle uses in place of `monaco-editor` (see sandbox-assets.ts): the editor
 * core and the JSON language (GraphiQL's variables, headers and response editors), without the
 * TypeScript, CSS and HTML languages and their workers that the full package pulls in.
 * monaco-graphql registers the GraphQL language itself.
 */
import 'monaco-editor/esm/vs/language/json/monaco.contribution.js';

export * from 'monaco-editor/esm/vs/editor/edcore.main.js';
