/**
 * What a user's test file sees under the sdk-adapters global setup: the emulator's env inherited by the
 * worker, its URLs via `inject`, user tokens via the control API, and the SAP Cloud SDK working unconfigured.
 */
import { getDestination } from '@sap-cloud-sdk/connectivity';
import { decodeJwt } from 'jose';
import { expect, inject, it } from 'vitest';
import { testRunEmulator, userToken, type ProvidedEmulator } from '../../../sdk-adapters/index.ts';

it('runs against the one emulator of the test run', async () => {
  const provided = inject('btpEmulator' as never) as ProvidedEmulator;
  expect(process.env.VCAP_SERVICES).toBe(provided.env.VCAP_SERVICES);
  expect(process.env.NODE_EXTRA_CA_CERTS).toBe(provided.env.NODE_EXTRA_CA_CERTS);
  expect(decodeJwt(await userToken(testRunEmulator(), 'alice')).user_name).toBe('alice');
  const destination = await getDestination({ destinationName: 'BACKEND_NOAUTH' });
  expect(destination?.url).toBe(provided.urls.backend);
});
