/** Public entry point of btp-connectivity-emulator for Node: start the emulator, or use its core directly. */
import './require-node.ts';
export {
  startEmulator,
  defaultPorts,
  defaultScenarioFile,
  StartOptionError,
  type EmulatorHandle,
  type EmulatorUrls,
  type StartOptions,
} from './server/start-emulator.ts';
export { TlsDirError } from './server/tls-material.ts';
export { PortInUseError, ScenarioFileError } from './server/start-errors.ts';
export { EmulatorCore, minimalScenario, type CoreOptions } from './app/emulator-core.ts';
export { createClock, type Clock } from './core/clock.ts';
export { ValidationError } from './core/validation.ts';
export type { Scenario, ScenarioInput } from './app/scenario-schema.ts';
export { destinationCustomResourcesOf } from './app/scenario-schema.ts';
export {
  crServices,
  TransparentProxyError,
  type CrService,
  type DestinationCrInput,
  type DestinationCustomResource,
  type TransparentProxyConfig,
} from './services/transparent-proxy/index.ts';
export { parseScenarioText, validateScenario } from './app/scenario.ts';
export type { JournalEntry, JournalFilter } from './core/journal.ts';
export type { Chain, ChainRole, ChainStep } from './core/journal-chains.ts';
export type { ClockAction, ClockView, KeysView } from './app/control/index.ts';
export type { VcapServices, ServiceBinding } from './app/bindings.ts';
export type { OnPremHandle, SharedHandle } from './app/handle.ts';
export type { ReceivedMail } from './services/backend/state.ts';
export type { EchoBody } from './server/backend/http-backend.ts';
export type { Fault, FaultSpec } from './core/faults.ts';
export type { ConnectivityProxyInput, ProxyMode } from './services/connectivity-proxy/index.ts';
