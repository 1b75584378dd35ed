/**
 * Which service a request belongs to, by its path: the journal's `service`, the faults' target, and whether the
 * request writes state a snapshot keeps. Every service declares its own paths (its plugin's `paths`); the core
 * knows no service URL.
 */
import type { JournalService } from './journal.ts';

export interface ServicePaths {
  /** The service's name in the journal and in fault targets. */
  service: JournalService;
  /** Whether a path belongs to this service. */
  owns(path: string): boolean;
  /** Whether faults may target its requests (default true; the control API is never faulted). */
  faultable?: boolean;
  /** Whether a request writes state a snapshot keeps (default: no request of this service does). */
  changesState?(method: string, path: string): boolean;
  /** The destination a request names, for fault targets (`destination`) and the journal. */
  destinationOf?(path: string): string | undefined;
  /** How faults tell the tenant: by the token request's `x-zid` or host (XSUAA), else by the bearer token's zone. */
  tenantBy?: 'token-request' | 'bearer';
}

export class ServiceTable {
  private readonly entries: ServicePaths[] = [];

  add(paths: ServicePaths): void {
    this.entries.push(paths);
  }

  /** The service that owns a path, if any. */
  find(path: string): ServicePaths | undefined {
    return this.entries.find((e) => e.owns(path));
  }

  /** The journal's `service` of a path: the owner's name, or `other`. */
  serviceOf(path: string): JournalService {
    return this.find(path)?.service ?? 'other';
  }

  changesState(method: string, path: string): boolean {
    if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
    return this.find(path)?.changesState?.(method, path) ?? false;
  }
}
