/** Reading a control API request body: JSON, an empty body is `{}`, anything else a 400 that says why. */
import { ValidationError } from '../core/scenario-schema.ts';

export async function readControlJson(c: { req: { text(): Promise<string> } }): Promise<unknown> {
  const text = await c.req.text();
  try {
    return text ? JSON.parse(text) : {};
  } catch (err) {
    throw new ValidationError('request body', [{ path: '', message: `not JSON: ${(err as Error).message}` }]);
  }
}
