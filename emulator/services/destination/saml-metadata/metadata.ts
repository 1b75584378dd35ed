/**
 * The subaccount trust part of the gateway: the SAML metadata of the caller's subaccount and its trust
 * certificate (active and passive), read, renewed, rotated and deleted. The trust itself is SAML's (saml/trust.ts).
 */
import { base64Encode } from '../../../core/ids.ts';
import type { Tenant } from '../../../core/subaccount.ts';
import { deletePassive, entityIdOf, idpMetadata, renewTrust, rotateTrust, toPem, trustOf } from '../../saml/index.ts';
import { DestinationError } from '../errors.ts';
import type { DestinationView } from '../state.ts';

export interface SamlMetadataDeps {
  state: () => DestinationView;
  /** The emulator clock, in ms (a renewed certificate's validity starts now). */
  now: () => number;
  /** `uaadomain` names the issuer of the subaccount's assertions. */
  placeholders: () => Record<string, string>;
}

const noPassive = (tenant: Tenant): DestinationError =>
  new DestinationError(404, `Passive keypair for subaccount - ${tenant.subaccountId} does not exist`);

export class SubaccountTrust {
  private readonly deps: SamlMetadataDeps;
  constructor(deps: SamlMetadataDeps) {
    this.deps = deps;
  }

  /** The IdP metadata naming the tenant's signing certificates, active first, base64 (`GET /v1/saml2Metadata`). */
  async metadata(tenant: Tenant): Promise<string> {
    const trust = await trustOf(this.deps.state(), tenant);
    const certificates = [trust.active.certificate, ...(trust.passive ? [trust.passive.certificate] : [])];
    return base64Encode(idpMetadata(entityIdOf(tenant, this.deps.placeholders().uaadomain ?? 'localhost'), certificates));
  }

  /** The active certificate (PEM). */
  async active(tenant: Tenant): Promise<string> {
    return toPem((await trustOf(this.deps.state(), tenant)).active.certificate);
  }

  /** The passive certificate (PEM); a 404 when there is none. */
  async passive(tenant: Tenant): Promise<string> {
    const passive = (await trustOf(this.deps.state(), tenant)).passive;
    if (!passive) throw noPassive(tenant);
    return toPem(passive.certificate);
  }

  /** A fresh key pair as the active or the passive certificate (PEM). */
  async renew(tenant: Tenant, which: 'active' | 'passive'): Promise<string> {
    return toPem((await renewTrust(this.deps.state(), tenant, this.deps.now(), which)).certificate);
  }

  /** Drop the passive certificate; a 404 when there is none. */
  async deletePassive(tenant: Tenant): Promise<void> {
    if (!(await deletePassive(this.deps.state(), tenant))) throw noPassive(tenant);
  }

  /** Swap active and passive (PEMs after the swap); a 404 when there is no passive certificate. */
  async rotate(tenant: Tenant): Promise<{ active: string; passive: string }> {
    const rotated = await rotateTrust(this.deps.state(), tenant);
    if (!rotated?.passive) throw noPassive(tenant);
    return { active: toPem(rotated.active.certificate), passive: toPem(rotated.passive.certificate) };
  }
}
