/** CRUD routes on subaccount and instance level (destinations, fragments, certificates). */
import type { App } from '../core/app-env.ts';
import type { DestinationGateway } from './gateway.ts';

export function registerCrudRoutes(_app: App, _gateway: DestinationGateway): void {}
