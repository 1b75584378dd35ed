/** SAML has no routes: its HTTP API, the subaccount's `/v1/saml2Metadata`, is the Destination Service's (destination/saml-metadata/). */
export {};
