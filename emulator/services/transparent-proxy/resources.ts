/**
 * Changing the proxy's Destination CRs at run time (control API): list, add or replace by namespace and name,
 * remove. A CR is checked whole first (its format, then the binding and tenants it names); a refused one throws
 * a ValidationError naming the field and changes nothing.
 */
import type { SubaccountState } from '../../core/subaccount.ts';
import { parseWith, ValidationError } from '../../core/validation.ts';
import { checkCrReferences, crKey, destinationCrSchema, type CrReferences, type DestinationCustomResource } from './schema.ts';
import type { TransparentProxyState } from './state.ts';

/** The names a CR may refer to in this state. */
export function crReferencesOf(state: Pick<SubaccountState, 'tenants' | 'bindings'>): CrReferences {
  return {
    tenants: state.tenants.map((t) => t.subdomain),
    destinationBindings: state.bindings.filter((b) => b.service === 'destination').map((b) => b.name),
  };
}

export function listDestinationCrs(state: TransparentProxyState): DestinationCustomResource[] {
  return [...state.transparentProxy.resources.values()];
}

/** Add a CR, or replace the one with its namespace and name. */
export function putDestinationCr(
  state: TransparentProxyState & Pick<SubaccountState, 'tenants' | 'bindings'>,
  input: unknown,
): DestinationCustomResource {
  const cr = parseWith(destinationCrSchema, input, 'Destination CR');
  const issues: { path: string; message: string }[] = [];
  checkCrReferences([cr], crReferencesOf(state), (_i, path, message) => issues.push({ path: path.join('.'), message }));
  if (issues.length) throw new ValidationError('Destination CR', issues);
  state.transparentProxy.resources.set(crKey(cr.metadata.namespace, cr.metadata.name), cr);
  return cr;
}

export function removeDestinationCr(state: TransparentProxyState, namespace: string, name: string): boolean {
  return state.transparentProxy.resources.delete(crKey(namespace, name));
}
