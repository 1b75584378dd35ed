/** The transport-free core, for the browser and MSW faces: no Node built-ins below this point. */
export { EmulatorCore, minimalScenario, type CoreOptions } from './emulator-core.ts';
export { createClock, type Clock } from '../core/clock.ts';
export { ValidationError } from '../core/validation.ts';
export type { Scenario, ScenarioInput } from './scenario-schema.ts';
export { parseScenarioText, validateScenario } from './scenario.ts';
export type { JournalEntry, JournalFilter } from '../core/journal.ts';
export { chainByCorrelationId, lastCallTo, type Chain, type ChainRole, type ChainStep } from '../core/journal-chains.ts';
export { FaultList, type Fault, type FaultSpec } from '../core/faults.ts';
export { createSharedHandle, type SharedHandle, type SharedHandleOptions, type OnPremHandle, type UserTokenRequest } from './handle.ts';
