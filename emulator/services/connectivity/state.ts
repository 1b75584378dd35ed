/**
 * The Connectivity Service keeps no state of its own: it reads the subaccount and the Cloud Connectors
 * (OnPremView). The "connected since" time of a connector is remembered per connector object in gateway.ts, so it
 * lasts until the state is rebuilt, as a reconnect would reset it.
 */
export type { OnPremView as ConnectivityView } from '../cloud-connector/state.ts';
