/** The control API has no state of its own: it reads and changes the emulator's (gateway.ts, ControlContext). */
export {};
