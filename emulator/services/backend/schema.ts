/** The fake on-prem backend's part of the scenario (`backend.stubs`, `backend.ldap`) and of the stub bodies of the control API. */
import { z } from 'zod';
import { ldapConfigProblems } from './ldap-directory.ts';

export const stubSchema = z.strictObject({
  /** Optional id; the emulator assigns one if missing. */
  id: z.string().min(1).optional(),
  /** HTTP method or `*`. */
  method: z
    .string()
    .min(1)
    .default('*')
    .transform((m) => m.toUpperCase()),
  /** Path pattern: exact, or with `*` matching any characters (`/api/*`). The query is ignored. */
  path: z.string().startsWith('/', 'a stub path starts with /'),
  status: z.number().int().min(100).max(599).default(200),
  headers: z.record(z.string(), z.string()).default({}),
  /** A string is sent as is; anything else as JSON. */
  body: z.unknown().optional(),
  delayMs: z.number().int().min(0).max(600_000).default(0),
});

const attributeNameRule = 'an attribute name is letters, digits and hyphens, starting with a letter';
const attributeName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, attributeNameRule);

/** The LDAP directory behind the fake backend's LDAP port (20389): read-only, seeded here (ldap-directory.ts). */
export const ldapSchema = z
  .strictObject({
    /** The directory's suffix, e.g. `dc=example,dc=com`; its entry is made if `entries` does not list it. */
    baseDn: z.string().min(1, 'baseDn is the suffix of the directory, e.g. dc=example,dc=com'),
    /** Whether a client that has not bound may search (binds are always required for everything else). */
    anonymousSearch: z.boolean().default(false),
    /** Who may bind (simple bind): DN and password. */
    bindUsers: z
      .array(
        z.strictObject({ dn: z.string().min(1, 'a bind user needs a dn'), password: z.string().min(1, 'a bind user needs a password') }),
      )
      .default([]),
    /** The entries, parents before children; the RDN's attribute is added to an entry that lacks it. */
    entries: z
      .array(
        z.strictObject({
          dn: z.string().min(1, 'an entry needs a dn'),
          attributes: z
            .record(attributeName, z.union([z.string(), z.array(z.string()).min(1, 'an attribute has at least one value')]), {
              error: (issue) => (issue.code === 'invalid_key' ? attributeNameRule : undefined),
            })
            .default({}),
        }),
      )
      .max(10_000)
      .default([]),
  })
  .superRefine((config, ctx) => {
    for (const problem of ldapConfigProblems(config)) ctx.addIssue({ code: 'custom', ...problem });
  });

export const backendSchema = z.strictObject({ stubs: z.array(stubSchema).default([]), ldap: ldapSchema.optional() }).default({ stubs: [] });

export type StubInput = z.input<typeof stubSchema>;
export type StubConfig = z.output<typeof stubSchema>;
export type LdapConfig = z.output<typeof ldapSchema>;

/** A mail the SMTP sink received, as the control API lists it and a snapshot keeps it (state.ts ReceivedMail). */
export const receivedMailSchema = z.object({
  id: z.number().int(),
  receivedAt: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  user: z.string().optional(),
  subject: z.string().optional(),
  raw: z.string(),
});
