/** SAML has no gateway of its own: it is a library; its behaviour is assertion.ts, trust.ts, keystore.ts, xml.ts and certificate.ts. */
export {};
