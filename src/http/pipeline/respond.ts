import type { ServerResponse } from 'node:http';
import type { HTTPGraphQLResponse } from '@apollo/server';

/** Step 7, respond: Apollo's response, never cached by anything on the way. */
export async function sendGraphQLResponse(res: ServerResponse, response: HTTPGraphQLResponse): Promise<void> {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  for (const [key, value] of response.headers) headers[key] = value;
  res.writeHead(response.status ?? 200, headers);
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
