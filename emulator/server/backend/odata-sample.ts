/**
 * A small read-only OData sample on the fake backend, so realistic clients have data: one entity set
 * `Products` as V2 (`/sap/opu/odata/sap/API_SAMPLE_SRV/`) and V4 (`/odata/v4/sample/`), with `$metadata`,
 * key access `Products('P1')`, `$top`, `$skip`, `$count`/`$inlinecount`, and the CSRF token fetch
 * (`x-csrf-token: Fetch`) SAP Gateway answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const products = [
  { ProductID: 'P1', Name: 'Notebook Basic 15', Category: 'Notebooks', Price: '956.00', Currency: 'EUR' },
  { ProductID: 'P2', Name: 'Notebook Professional 17', Category: 'Notebooks', Price: '2299.00', Currency: 'EUR' },
  { ProductID: 'P3', Name: 'Flat Screen 24', Category: 'Monitors', Price: '399.00', Currency: 'EUR' },
  { ProductID: 'P4', Name: 'Ergo Mouse', Category: 'Accessories', Price: '29.90', Currency: 'EUR' },
];

const v2Base = '/sap/opu/odata/sap/API_SAMPLE_SRV';
const v4Base = '/odata/v4/sample';

const metadata = (version: 'V2' | 'V4'): string => {
  const props = 'ProductID Name Category Price Currency'
    .split(' ')
    .map((p) => `<Property Name="${p}" Type="Edm.String"${p === 'ProductID' ? ' Nullable="false"' : ''}/>`)
    .join('');
  const entity = `<EntityType Name="Product"><Key><PropertyRef Name="ProductID"/></Key>${props}</EntityType>`;
  if (version === 'V4') {
    return `<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="SampleService" xmlns="http://docs.oasis-open.org/odata/ns/edm">${entity}<EntityContainer Name="EntityContainer"><EntitySet Name="Products" EntityType="SampleService.Product"/></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`;
  }
  return `<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><edmx:DataServices m:DataServiceVersion="2.0"><Schema Namespace="API_SAMPLE_SRV" xmlns="http://schemas.microsoft.com/ado/2008/09/edm">${entity}<EntityContainer Name="API_SAMPLE_SRV_Entities" m:IsDefaultEntityContainer="true"><EntitySet Name="Products" EntityType="API_SAMPLE_SRV.Product"/></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`;
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  const xml = typeof body === 'string';
  const text = xml ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': xml ? 'application/xml' : 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
  return true;
}

/** Answers and returns true if the request is for the sample service. */
export function handleODataSample(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const version = url.pathname.startsWith(v2Base) ? 'V2' : url.pathname.startsWith(v4Base) ? 'V4' : undefined;
  if (!version) return false;
  const base = version === 'V2' ? v2Base : v4Base;
  const rest = url.pathname.slice(base.length).replace(/^\//, '');
  const csrf: Record<string, string> =
    String(req.headers['x-csrf-token'] ?? '').toLowerCase() === 'fetch' ? { 'x-csrf-token': 'emulator-csrf-token' } : {};
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return send(res, 405, { error: { code: '405', message: 'the sample service is read-only' } }, csrf);
  const service = `http://${req.headers.host ?? 'backend'}${base}/`;
  if (rest === '')
    return send(
      res,
      200,
      version === 'V2'
        ? { d: { EntitySets: ['Products'] } }
        : { '@odata.context': `${service}$metadata`, value: [{ name: 'Products', kind: 'EntitySet', url: 'Products' }] },
      csrf,
    );
  if (rest === '$metadata') return send(res, 200, metadata(version), csrf);
  const single = /^Products\('([^']*)'\)$/.exec(rest);
  if (single) {
    const product = products.find((p) => p.ProductID === single[1]);
    if (!product)
      return send(res, 404, { error: { code: '404', message: { lang: 'en', value: `Product '${single[1]}' not found` } } }, csrf);
    return send(
      res,
      200,
      version === 'V2'
        ? { d: { __metadata: { uri: `${service}Products('${product.ProductID}')`, type: 'API_SAMPLE_SRV.Product' }, ...product } }
        : { '@odata.context': `${service}$metadata#Products/$entity`, ...product },
      csrf,
    );
  }
  if (rest !== 'Products') return send(res, 404, { error: { code: '404', message: `no resource ${rest}` } }, csrf);
  const skip = Number(url.searchParams.get('$skip') ?? 0) || 0;
  const top = url.searchParams.has('$top') ? Number(url.searchParams.get('$top')) : products.length;
  const page = products.slice(skip, skip + top);
  if (version === 'V2') {
    const results = page.map((p) => ({
      __metadata: { uri: `${service}Products('${p.ProductID}')`, type: 'API_SAMPLE_SRV.Product' },
      ...p,
    }));
    const count = url.searchParams.get('$inlinecount') === 'allpages' ? { __count: String(products.length) } : {};
    return send(res, 200, { d: { ...count, results } }, csrf);
  }
  const count = url.searchParams.get('$count') === 'true' ? { '@odata.count': products.length } : {};
  return send(res, 200, { '@odata.context': `${service}$metadata#Products`, ...count, value: page }, csrf);
}
