/** Reading a control API request body: JSON (JSON.parse, depth-checked), an empty body is `{}`, anything else a 400 that says why. */
import { parseJsonText } from '../../core/limits.ts';

export async function readControlJson(c: { req: { text(): Promise<string> } }): Promise<unknown> {
  const text = await c.req.text();
  return text ? parseJsonText(text, 'request body') : {};
}
