/**
 * Runs once before the test workers start: makes sure the emulator's CA exists and tells the workers to
 * trust it through NODE_EXTRA_CA_CERTS, exactly as an app under test is told to.
 */
import { ensureTlsMaterial } from '../emulator/server/tls-material.ts';

export default function setup(): void {
  const tls = ensureTlsMaterial();
  process.env.NODE_EXTRA_CA_CERTS = tls.caFile;
}
