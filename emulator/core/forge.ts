/**
 * node-forge, imported on first use (certificate files of the Destination Service, keystores that sign SAML
 * assertions), so the core starts and bundles small.
 */
import type forgeNamespace from 'node-forge';

export type Forge = typeof forgeNamespace;

let forgePromise: Promise<Forge> | undefined;
/** node-forge, imported once on first use. */
export const loadForge = (): Promise<Forge> => (forgePromise ??= import('node-forge').then((m) => (m.default ?? m) as Forge));
