/** SAML has no part of the scenario and no request bodies of its own (what an assertion reads is `AssertionProperties`, assertion.ts). */
export {};
