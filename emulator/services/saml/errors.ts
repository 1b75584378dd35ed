/**
 * SAML's errors. Plain Errors, not HttpErrors: SAML has no routes, so its callers say what a failure means to
 * their client (the Destination Service an authTokens error element, XSUAA an `invalid_grant`).
 */

/** An assertion cannot be built: no user ID, a keystore that cannot sign. */
export class SamlAssertionError extends Error {}

/** A received assertion is not well-formed or its signature does not verify. */
export class XmlSignatureError extends Error {}
