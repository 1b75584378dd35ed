/**
 * The README's worked example, runnable: `npm ci && npm test` in this folder (that is `node sdk-quickstart.ts`).
 * The SAP Cloud SDK, unmodified, finds destinations in the emulator and calls a local target with the credentials
 * the destinations describe.
 *
 * It plays both sides. Started plainly, it starts a small target server and the emulator, then runs itself
 * again as "the app" with the emulator's env (VCAP_SERVICES, NODE_EXTRA_CA_CERTS) — the way an app under
 * test gets it, since Node reads NODE_EXTRA_CA_CERTS only when a process starts. Exits 1 if a check fails.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { startEmulator } from 'btp-connectivity-emulator';

/** The app under test: plain SDK code that knows nothing about the emulator. */
async function runApp(): Promise<void> {
  // Finds ORDERS in the Destination Service named by VCAP_SERVICES, with a token from the xsuaa binding.
  const destination = await getDestination({ destinationName: 'ORDERS' });
  console.log(`app: ORDERS is ${destination?.url} (${destination?.authentication})`);

  // Calls the target; the SDK adds the Bearer token the emulator's XSUAA issued to the destination's client.
  const orders = await executeHttpRequest({ destinationName: 'ORDERS' }, { method: 'get', url: '/orders' });
  console.log(`app: GET /orders -> ${orders.status}, target saw ${JSON.stringify(orders.data)}`);

  // On behalf of a user: the user's JWT is exchanged for a token of the destination's client (JWT bearer).
  const userJwt = process.env.USER_JWT;
  const mine = await executeHttpRequest({ destinationName: 'MY_ORDERS', jwt: userJwt }, { method: 'get', url: '/orders/mine' });
  console.log(`app: GET /orders/mine -> ${mine.status}, target saw ${JSON.stringify(mine.data)}`);
}

/** What a test does: start a target and the emulator, give the app the emulator's env, check what arrived. */
async function runExample(): Promise<void> {
  const seen: { path?: string; grantType?: string; user?: string }[] = [];
  const target = createServer((req, res) => {
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    const claims = token
      ? (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { grant_type?: string; user_name?: string })
      : {};
    const entry = { path: req.url, grantType: claims.grant_type, user: claims.user_name };
    seen.push(entry);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entry));
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;

  const oauth = { tokenServiceURL: '{{services}}/oauth/token', clientId: 'orders-client', clientSecret: 'orders-secret' };
  const emulator = await startEmulator({
    port: 0,
    scenario: {
      name: 'sdk-quickstart',
      tenants: [
        {
          subdomain: 'provider',
          destinations: [
            { Name: 'ORDERS', Type: 'HTTP', URL: targetUrl, Authentication: 'OAuth2ClientCredentials', ProxyType: 'Internet', ...oauth },
            { Name: 'MY_ORDERS', Type: 'HTTP', URL: targetUrl, Authentication: 'OAuth2JWTBearer', ProxyType: 'Internet', ...oauth },
          ],
        },
      ],
      clients: [{ clientid: 'orders-client', clientsecret: 'orders-secret', xsappname: 'orders!t1' }],
      users: [{ name: 'alice', email: 'alice@example.com', scopes: ['Display'] }],
    },
  });

  try {
    const userJwt = await emulator.issueUserToken({ user: 'alice' });
    const app = spawn(process.execPath, [fileURLToPath(import.meta.url), 'app'], {
      env: { ...process.env, ...emulator.env, USER_JWT: userJwt },
      stdio: 'inherit',
    });
    const code = await new Promise<number | null>((resolve) => app.on('close', resolve));
    if (code !== 0) throw new Error(`the app exited with ${code}`);

    const expected = [
      { path: '/orders', grantType: 'client_credentials', user: undefined },
      { path: '/orders/mine', grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', user: 'alice' },
    ];
    if (JSON.stringify(seen) !== JSON.stringify(expected))
      throw new Error(`the target saw ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`);
    console.log('example: ok, the target received the tokens the destinations describe');
  } finally {
    await emulator.stop();
    target.close();
  }
}

try {
  await (process.argv[2] === 'app' ? runApp() : runExample());
} catch (err) {
  console.error(`${process.argv[2] === 'app' ? 'app' : 'example'} failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
