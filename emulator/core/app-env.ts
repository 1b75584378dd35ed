/** The Hono environment shared by all routes: what a handler tells the journal about its request. */
import type { Hono } from 'hono';

export interface AppEnv {
  Variables: {
    destination?: string;
    tenant?: string;
    reason?: string;
    /** Further fields for this request's journal entry (token ids that link the hops of one call, see core/chains.ts). */
    journal?: Record<string, unknown>;
  };
}

export type App = Hono<AppEnv>;
