/**
 * The little of React the sandbox client uses. The project has no @types/react (React is only
 * bundled for the browser, never run by the hub), so these declarations stand in for it.
 */
declare module 'react' {
  export function createElement(type: unknown, props?: Record<string, unknown> | null, ...children: unknown[]): unknown;
}

declare module 'react-dom/client' {
  export function createRoot(container: Element): { render(node: unknown): void; unmount(): void };
}
