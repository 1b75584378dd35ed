/**
 * The `flows` group: what a test suite with the SAP Cloud SDK pays per test, in this process.
 * - shared: one emulator for all tests; a test is `getDestination` (ONPREM_LOC1, an OnPremise destination through the LOC1 connector) +
 *   `executeHttpRequest` through the connectivity proxy to the fake backend + `reset()`.
 * - fresh: `startEmulator()` per test, the same calls, then `stop()`.
 * - nock: the same SDK calls against nock interceptors that answer the same payloads (the token, the
 *   destination, the backend's answer, recorded from an emulator first): what a mocked test costs.
 * All with `useCache: false` (a test that resets state cannot keep a cached destination). The flows alternate
 * test by test. The SDK keeps its XSUAA client per client id together with the first URL it saw, so a fresh
 * emulator on a new port would get ECONNREFUSED: the fresh flow calls the SDK's `clearXsuaaServices()` after
 * each `stop()` (the nock flow too, so both pay it).
 */
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { clearXsuaaServices } from '@sap-cloud-sdk/connectivity/internal';
import { executeHttpRequest } from '@sap-cloud-sdk/http-client';
import { median, result, type BenchResult, type StartEmulator } from './common.ts';

// nock intercepts every HTTP request of the process from its import on: imported in benchFlows only, and switched
// off (nock.restore) except while the nock flow runs, so no other figure pays for its interceptors.
type Nock = typeof import('nock').default;
/** What nock's recorder gives per call (output_objects), as far as the replay needs it. */
interface NockDefinition {
  scope: string;
  method?: string;
  path: string;
  status?: number;
  response?: unknown;
  rawHeaders?: string[] | Record<string, string>;
}

export interface FlowSettings {
  /** Tests per flow (after a warm-up of a tenth of it, at least 3). */
  flowRuns: number;
}

const destinationName = 'ONPREM_LOC1';
const path = '/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_BusinessPartner?$top=1';

interface Recorded {
  vcap: string;
  /** Every call the SDK made, with the answer the emulator gave. */
  calls: { origin: string; method: string; path: string; status: number; headers: Record<string, string>; body: string }[];
}

/** One SDK test: the destination lookup and one request through the proxy; throws unless the backend answered 200. */
async function sdkTest(): Promise<void> {
  const destination = await getDestination({ destinationName, useCache: false });
  if (!destination) throw new Error(`${destinationName} not found`);
  const res = await executeHttpRequest(destination as Parameters<typeof executeHttpRequest>[0], { method: 'get', url: path });
  if (res.status !== 200) throw new Error(`backend status ${res.status}`);
}

/** Run the SDK test against an emulator once with nock recording every HTTP exchange, to replay them later. */
async function record(nock: Nock, startEmulator: StartEmulator): Promise<Recorded> {
  const emu = await startEmulator({ port: 0, scenario: 'default' });
  try {
    process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
    clearXsuaaServices();
    if (!nock.isActive()) nock.activate();
    nock.recorder.rec({ output_objects: true, dont_print: true, enable_reqheaders_recording: false });
    try {
      await sdkTest();
    } finally {
      nock.restore();
    }
    const defs = nock.recorder.play() as NockDefinition[];
    nock.recorder.clear();
    return {
      vcap: emu.env.VCAP_SERVICES,
      calls: defs.map((d) => ({
        origin: d.scope,
        method: (d.method ?? 'GET').toUpperCase(),
        path: d.path,
        status: d.status ?? 200,
        headers: headerObject(d.rawHeaders),
        body: typeof d.response === 'string' ? d.response : JSON.stringify(d.response ?? ''),
      })),
    };
  } finally {
    await emu.stop();
    clearXsuaaServices();
  }
}

function headerObject(raw: string[] | Record<string, string> | undefined): Record<string, string> {
  if (!raw) return {};
  if (!Array.isArray(raw)) return raw;
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection' && name !== 'keep-alive') out[name] = raw[i + 1];
  }
  return out;
}

/** nock interceptors answering every recorded call, persisted for the whole flow. */
function intercept(nock: Nock, recorded: Recorded): void {
  for (const call of recorded.calls)
    nock(call.origin).persist().intercept(call.path, call.method).reply(call.status, call.body, call.headers);
}

export async function benchFlows(startEmulator: StartEmulator, settings: FlowSettings): Promise<BenchResult[]> {
  const savedVcap = process.env.VCAP_SERVICES;
  const { default: nock } = await import('nock');
  nock.restore();
  try {
    const recorded = await record(nock, startEmulator);
    const shared = await startEmulator({ port: 0, scenario: 'default' });
    const sharedTest = async (): Promise<void> => {
      await sdkTest();
      shared.reset();
    };
    const freshTest = async (): Promise<void> => {
      const emu = await startEmulator({ port: 0, scenario: 'default' });
      try {
        process.env.VCAP_SERVICES = emu.env.VCAP_SERVICES;
        await sdkTest();
      } finally {
        await emu.stop();
        clearXsuaaServices(); // else the next emulator's port is refused: the SDK kept this one's URL
      }
    };
    const nockTest = async (): Promise<void> => {
      intercept(nock, recorded);
      try {
        await sdkTest();
      } finally {
        nock.cleanAll();
      }
    };
    // Blocks of tests per flow, the order rotating per round; each block sets up what a test file would have.
    interface Flow {
      run: () => Promise<void>;
      before: () => void;
      after: () => void;
      times: number[];
    }
    const sharedFlow: Flow = {
      run: sharedTest,
      before: () => (process.env.VCAP_SERVICES = shared.env.VCAP_SERVICES),
      after: () => clearXsuaaServices(),
      times: [],
    };
    const freshFlow: Flow = { run: freshTest, before: () => undefined, after: () => undefined, times: [] };
    const nockFlow: Flow = {
      run: nockTest,
      before: () => {
        process.env.VCAP_SERVICES = recorded.vcap;
        if (!nock.isActive()) nock.activate();
      },
      after: () => {
        nock.restore();
        clearXsuaaServices();
      },
      times: [],
    };
    const flows = [sharedFlow, freshFlow, nockFlow];
    const block = Math.max(1, Math.ceil(settings.flowRuns / 10));
    try {
      clearXsuaaServices();
      for (const flow of flows) {
        flow.before();
        for (let i = 0; i < Math.max(3, block); i++) await flow.run();
        flow.after();
      }
      for (let round = 0; round * block < settings.flowRuns; round++)
        for (let j = 0; j < flows.length; j++) {
          const flow = flows[(round + j) % flows.length];
          flow.before();
          try {
            for (let i = 0; i < block; i++) {
              const started = performance.now();
              await flow.run();
              flow.times.push(performance.now() - started);
            }
          } finally {
            flow.after();
          }
        }
    } finally {
      await shared.stop();
      clearXsuaaServices();
    }
    const [sharedMs, freshMs, nockMs] = flows.map((f) => median(f.times));
    const runs = sharedFlow.times.length;
    const calls = `per test the SDK made ${recorded.calls.length} HTTP calls (${recorded.calls.map((c) => `${c.method} ${c.origin}${c.path.split('?')[0]}`).join(', ')})`;
    return [
      result(
        'flows: SDK test with one shared emulator (getDestination + executeHttpRequest via 20003 + reset())',
        'ms',
        sharedMs,
        'the same SDK calls against nock',
        nockMs,
        runs,
        undefined,
        calls,
      ),
      result(
        'flows: SDK test with a fresh startEmulator() (the same + stop() + clearXsuaaServices())',
        'ms',
        freshMs,
        'the same SDK calls against nock',
        nockMs,
        runs,
      ),
      result(
        'flows: fresh startEmulator() per test vs one shared emulator',
        'ms',
        freshMs,
        'one shared emulator + reset()',
        sharedMs,
        runs,
        {
          text: '≤ 1.5× shared',
          max: 1.5,
        },
      ),
    ];
  } finally {
    nock.restore();
    nock.cleanAll();
    if (savedVcap === undefined) delete process.env.VCAP_SERVICES;
    else process.env.VCAP_SERVICES = savedVcap;
  }
}
