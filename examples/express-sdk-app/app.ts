/**
 * An express app that reads on-prem data on behalf of its user, written the way a BTP app is: it authenticates
 * the caller's XSUAA token with `@sap/xssec` (xsuaa binding found by `@sap/xsenv`) and calls the OnPremise
 * OData service behind the `ERP_PP` destination with the SAP Cloud SDK, passing the user's JWT. The destination
 * uses PrincipalPropagation: the SDK sends the JWT to the connectivity proxy, the Cloud Connector turns it into
 * a short-lived X.509 client certificate for the user, and the backend sees that user.
 * Nothing here knows about the emulator; the environment (VCAP_SERVICES or SERVICE_BINDING_ROOT) decides.
 */
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { createSecurityContext, XsuaaService } from '@sap/xssec';
import express, { type NextFunction, type Request, type Response } from 'express';

const xsenv = createRequire(import.meta.url)('@sap/xsenv') as {
  filterServices(filter: { label: string }): { credentials: Record<string, unknown> }[];
};

export const destinationName = 'ERP_PP';
const servicePath = '/sap/opu/odata/sap/API_SAMPLE_SRV';

interface HttpFailure {
  response?: { status?: number };
  cause?: { response?: { status?: number } };
}

interface Authenticated {
  jwt: string;
  user: string;
}

/** 401 unless the Authorization header carries a token the bound XSUAA signed for this app. */
function authenticate(xsuaa: XsuaaService) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const jwt = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!jwt) return void res.status(401).json({ error: 'missing bearer token' });
    try {
      const context = await createSecurityContext(xsuaa, { jwt });
      res.locals.auth = { jwt, user: context.getLogonName() } satisfies Authenticated;
      next();
    } catch (err) {
      res.status(401).json({ error: (err as Error).message });
    }
  };
}

/** The CN of the client certificate the backend received (header `ssl_client_cert`, as SAP systems get it). */
function certificateUser(base64Der: unknown): string | undefined {
  if (typeof base64Der !== 'string') return undefined;
  return /^CN=(.*)$/m.exec(new X509Certificate(Buffer.from(base64Der, 'base64')).subject)?.[1];
}

export function createApp(): express.Express {
  const [binding] = xsenv.filterServices({ label: 'xsuaa' });
  if (!binding) throw new Error('no xsuaa binding (VCAP_SERVICES or SERVICE_BINDING_ROOT)');
  const xsuaa = new XsuaaService(binding.credentials as never);
  const app = express();
  app.use(authenticate(xsuaa));

  // Products from the on-prem OData V2 service, read as the calling user.
  app.get('/products', async (_req, res, next) => {
    try {
      const { jwt } = res.locals.auth as Authenticated;
      const response = await executeHttpRequest(
        { destinationName, jwt },
        { method: 'get', url: `${servicePath}/Products`, params: { $top: 2 } },
      );
      res.json({ products: (response.data as { d: { results: unknown[] } }).d.results });
    } catch (err) {
      next(err);
    }
  });

  // Who the on-prem system thinks the caller is: the subject of the propagated principal's certificate.
  app.get('/whoami', async (_req, res, next) => {
    try {
      const { jwt, user } = res.locals.auth as Authenticated;
      const response = await executeHttpRequest({ destinationName, jwt }, { method: 'get', url: '/echo' });
      const echoed = response.data as { headers: Record<string, unknown> };
      res.json({ user, backendUser: certificateUser(echoed.headers.ssl_client_cert) });
    } catch (err) {
      next(err);
    }
  });

  // A failed backend call: 502 with the status the SDK got (the proxy's or the backend's).
  app.use((err: Error & HttpFailure, _req: Request, res: Response, _next: NextFunction) => {
    res.status(502).json({ error: err.message, backendStatus: (err.response ?? err.cause?.response)?.status });
  });
  return app;
}
