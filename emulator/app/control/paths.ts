/** The control API's paths, for the journal and change notification: never faulted; the journal and health not journaled. */
import type { ServicePaths } from '../../core/service-table.ts';
import { controlBase } from './contract.ts';

/** Control routes that write nothing that a snapshot keeps (issuing a token, clearing the journal). */
const stateless = [`${controlBase}/users/token`, `${controlBase}/journal`];

export const controlPaths: ServicePaths = {
  service: 'control',
  owns: (path) => path.startsWith(controlBase),
  faultable: false,
  changesState: (_method, path) => !stateless.includes(path),
};

/** Reading the journal and asking for health are not themselves journaled. */
export const journaled = (path: string): boolean => !path.startsWith(`${controlBase}/journal`) && path !== `${controlBase}/health`;
