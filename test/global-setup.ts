/**
 * Runs once before the test workers start: makes sure the emulator's CA exists and tells the workers to
 * trust it through NODE_EXTRA_CA_CERTS, exactly as an app under test is told to. The machine's own value (on some
 * machines the registry is reached through a proxy whose CA only that file holds) is kept in
 * BTP_EMULATOR_TEST_MACHINE_CA_CERTS for the tests that run npm against the registry as a user would.
 */
import { ensureTlsMaterial } from '../emulator/server/tls-material.ts';

export default function setup(): void {
  const tls = ensureTlsMaterial();
  process.env.BTP_EMULATOR_TEST_MACHINE_CA_CERTS ??= process.env.NODE_EXTRA_CA_CERTS ?? '';
  process.env.NODE_EXTRA_CA_CERTS = tls.caFile;
}
