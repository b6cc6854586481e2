import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../../errors.js';
import { sendGraphQLError } from '../respond.js';

/**
 * A step's "no": the coded error the caller gets instead of going on, and the outcome word the
 * request log and metrics record. Every step returns either its value or a refusal, so the
 * handler reads as the list of steps.
 */
export interface Refusal {
  readonly refused: true;
  readonly code: ErrorCode;
  readonly message: string;
  readonly outcome: string;
  readonly status?: number | undefined;
  readonly headers?: Record<string, string> | undefined;
}

export function refusal(code: ErrorCode, message: string, outcome: string, options: { status?: number; headers?: Record<string, string> } = {}): Refusal {
  return { refused: true, code, message, outcome, status: options.status, headers: options.headers };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && (value as { refused?: unknown }).refused === true;
}

export function sendRefusal(res: ServerResponse, refused: Refusal): void {
  sendGraphQLError(res, refused.code, refused.message, { ...(refused.status === undefined ? {} : { status: refused.status }), ...(refused.headers === undefined ? {} : { headers: refused.headers }) });
}
