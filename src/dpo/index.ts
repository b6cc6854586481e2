export {
  createDpoConsoleRoutes,
  dpoConsolePath,
  dpoConsoleScriptPath,
  dpoContentSecurityPolicy,
  type DpoConsoleRoutes,
} from './dpo-console-routes.js';
export { dpoConsoleOperations, type DpoConsoleOperationName } from './dpo-console-operations.js';
export { renderDpoConsolePage, dpoConsoleStyle, type DpoPersona } from './dpo-console-page.js';
