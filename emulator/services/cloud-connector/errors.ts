/**
 * The Cloud Connector's refusals are access decisions, not thrown errors: access.ts returns `AccessDenied` with the
 * check that failed, and each proxy turns it into its transport's answer (HTTP status or SOCKS5 reply code).
 * Bad connector input is a ValidationError (core/validation.ts).
 */
export type { AccessDenied as CloudConnectorRefusal } from './access.ts';
