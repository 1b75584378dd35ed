/**
 * Identity service (IAS) tokens: client_credentials over HTTPS on the identity port, authenticated with a client
 * secret and with the binding's certificate (mTLS), each next to the same bare-signing baseline as XSUAA's token
 * rows: signing the same JWT (same header, claims and key) with jose directly.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { result, throughput, type BenchResult, type StartEmulator } from './common.ts';

interface IasBenchSettings {
  tokens: number;
  tokenConcurrency: number;
}

interface Credentials {
  clientid: string;
  clientsecret?: string;
  certificate?: string;
  key?: string;
  url: string;
}

function post(agent: Agent, url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve((JSON.parse(text) as { access_token: string }).access_token)
          : reject(new Error(`token request failed: ${res.statusCode} ${text}`)),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function benchIasTokens(startEmulator: StartEmulator, settings: IasBenchSettings): Promise<BenchResult[]> {
  const emulator = await startEmulator({
    port: 0,
    scenario: {
      name: 'ias-bench',
      tenants: [{ subdomain: 'provider' }],
      bindings: [
        { name: 'ias-secret', service: 'identity' },
        { name: 'ias-x509', service: 'identity', credentialType: 'X509_GENERATED' },
      ],
    },
  });
  const agents: Agent[] = [];
  try {
    const ca = readFileSync(emulator.caFile, 'utf8');
    const vcap = JSON.parse(emulator.env.VCAP_SERVICES) as { identity: { name: string; credentials: Credentials }[] };
    const creds = (name: string): Credentials => vcap.identity.find((b) => b.name === name)!.credentials;
    const secret = creds('ias-secret');
    const x509 = creds('ias-x509');
    const variants = [
      {
        name: 'client secret',
        agent: new Agent({ keepAlive: true, ca }),
        form: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: secret.clientid,
          client_secret: secret.clientsecret!,
        }).toString(),
        url: `${secret.url}/oauth2/token`,
      },
      {
        name: 'mTLS',
        agent: new Agent({ keepAlive: true, ca, cert: x509.certificate, key: x509.key }),
        form: new URLSearchParams({ grant_type: 'client_credentials', client_id: x509.clientid }).toString(),
        url: `${x509.url}/oauth2/token`,
      },
    ];
    agents.push(...variants.map((v) => v.agent));
    const key = emulator.core.identity.minter.keys.active.privateKey;
    const results: BenchResult[] = [];
    for (const variant of variants) {
      let lastJwt = '';
      const requestToken = async (): Promise<void> => {
        lastJwt = await post(variant.agent, variant.url, variant.form);
      };
      for (let i = 0; i < 20; i++) await requestToken();
      const header = decodeProtectedHeader(lastJwt);
      const claims = decodeJwt(lastJwt);
      const signDirectly = async (): Promise<void> => {
        const jwt = await new SignJWT(claims).setProtectedHeader({ ...header, alg: 'RS256' }).sign(key);
        if (!jwt) throw new Error('jose returned no JWT');
      };
      for (let i = 0; i < 20; i++) await signDirectly();
      for (const concurrency of [1, settings.tokenConcurrency]) {
        const overHttps = await throughput(settings.tokens, concurrency, requestToken);
        const direct = await throughput(settings.tokens, concurrency, signDirectly);
        results.push(
          result(
            `IAS client_credentials tokens over HTTPS (${variant.name}), ${concurrency} in flight`,
            'tokens/s',
            overHttps,
            `jose SignJWT of the same JWT, ${concurrency} in flight`,
            direct,
            settings.tokens,
          ),
        );
      }
    }
    return results;
  } finally {
    for (const agent of agents) agent.destroy();
    await emulator.stop();
  }
}
