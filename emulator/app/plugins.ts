/**
 * The services of the emulator, in the order they are created (a service may use those before it). Adding a
 * service means adding its folder under emulator/services and one entry here; the core does not change.
 */
import { connectivityPlugin } from '../services/connectivity/index.ts';
import { destinationPlugin } from '../services/destination/index.ts';
import { identityPlugin } from '../services/identity/index.ts';
import { xsuaaPlugin } from '../services/xsuaa/index.ts';
import type { ServiceInstance, ServicePlugin } from '../core/plugin.ts';
import type { EmulatorState } from './state.ts';

export const plugins = [xsuaaPlugin, identityPlugin, destinationPlugin, connectivityPlugin] as const satisfies readonly ServicePlugin<
  ServiceInstance,
  EmulatorState
>[];
