/**
 * The control API (/_emulator) in the shape of a service folder, but in the app layer: it speaks about the whole
 * emulator (its scenario, snapshots), so it is no service. The composition root creates it over itself
 * (`createControl(core)`: EmulatorCore is a ControlContext) and adds `controlPaths` to its service table.
 */
import type { App } from '../../core/app-env.ts';
import type { ServicePaths } from '../../core/service-table.ts';
import { controlBase } from './contract.ts';
import { ControlGateway, type ControlContext } from './gateway.ts';
import { registerRoutes } from './routes.ts';

export { controlBase };
export { ControlGateway, type ControlContext };
export { applyClockAction, clockView, parseDuration, type ClockAction, type ClockView } from './clock-actions.ts';
export { keysView, rotateSigningKey, type KeysView } from './key-rotation.ts';

/** Control routes that write nothing that a snapshot keeps (issuing a token, clearing the journal). */
const stateless = [`${controlBase}/users/token`, `${controlBase}/journal`];

/** The control API's paths, for the journal and change notification: never faulted. */
export const controlPaths: ServicePaths = {
  service: 'control',
  owns: (path) => path.startsWith(controlBase),
  faultable: false,
  changesState: (_method, path) => !stateless.includes(path),
};

/** Reading the journal and asking for health are not themselves journaled. */
export const journaled = (path: string): boolean => !path.startsWith(`${controlBase}/journal`) && path !== `${controlBase}/health`;

export interface Control {
  gateway: ControlGateway;
  /** The control token's guard first, then every operation of contract.ts. */
  registerRoutes(app: App): void;
}

export function createControl(ctx: ControlContext): Control {
  const gateway = new ControlGateway(ctx);
  return { gateway, registerRoutes: (app) => registerRoutes(app, gateway, () => ctx.controlToken) };
}
