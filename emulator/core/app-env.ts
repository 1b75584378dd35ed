/** The Hono environment shared by all routes: what a handler tells the journal about its request. */
import type { Hono } from 'hono';

export interface AppEnv {
  Variables: {
    destination?: string;
    tenant?: string;
    reason?: string;
  };
}

export type App = Hono<AppEnv>;
