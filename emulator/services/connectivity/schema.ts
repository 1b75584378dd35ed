/** The Connectivity Service's wire names: the REST API's path and plan, and the shape of a connector's answer. */

/** The path the binding's `connectivity_service.scc_info_path` names, relative to `connectivity_service.url`. */
export const sccInfoPath = '/connectivity/api/v1/scc_info';

/** The plan whose bindings may call the REST API (and whose bindings show `connectivity_service`). */
export const apiAccessPlan = 'api_access';

/** One connected Cloud Connector as the REST API lists it: string values only (JSON documents serialised). */
export interface ConnectorInfo {
  attributes: Record<string, string>;
}
