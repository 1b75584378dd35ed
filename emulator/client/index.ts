/** `btp-connectivity-emulator/client`: the typed control API client (Node, browsers, containers). */
export {
  ControlApiError,
  ControlClient,
  type CallArgs,
  type CallResult,
  type ControlClientOptions,
  type JournalEntry,
  type JournalQuery,
  type WaitForOptions,
} from './control-client.ts';
export { operations, type OperationId } from '../app/control/contract.ts';
