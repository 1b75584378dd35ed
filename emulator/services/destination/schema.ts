/**
 * The Destination Service's part of the scenario and of its CRUD bodies: destinations, fragments and certificates,
 * and what a level (subaccount or instance) holds. Destinations and fragments are open like the real service's;
 * a scenario also refuses near-misses of known property names and unknown `Type`, `ProxyType` or `Authentication`.
 */
import { z } from 'zod';
import { authenticationTypes, destinationTypes, knownPropertyNear, oneOfMessage, proxyTypes } from './properties.ts';

/** Destination property values are strings on the wire; scalars from YAML (`TRUE`, 8080) are turned into strings. */
const propertyValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

export const destinationSchema = z
  .object({
    Name: z.string({ error: 'Name is required and must be a string' }).min(1, 'Name must not be empty').max(200),
    Type: z.enum(destinationTypes, { error: (issue) => oneOfMessage('Type', destinationTypes, issue.input) }),
  })
  .catchall(propertyValue);

export const fragmentSchema = z
  .object({
    FragmentName: z.string({ error: 'FragmentName is required and must be a string' }).min(1).max(200),
  })
  .catchall(propertyValue)
  .superRefine((value, ctx) => {
    for (const forbidden of ['Name', 'Type']) {
      if (forbidden in value) ctx.addIssue({ code: 'custom', path: [forbidden], message: `a fragment must not contain ${forbidden}` });
    }
  });

export const certificateSchema = z.object({
  Name: z.string({ error: 'Name is required and must be a string' }).min(1).max(200),
  Type: z.string().nullish(),
  Content: z.string({ error: 'Content is required (base64 of the file)' }).min(1),
});

/**
 * What a scenario adds to the CRUD rules of a destination or fragment: no near-miss of a known property name
 * (`ProxyTyp`, `clientid`), and `ProxyType` and `Authentication` from the lists the emulator knows. Runs even
 * when another field failed, so every mistake is reported at once.
 */
function checkScenarioProperties(value: unknown, ctx: z.RefinementCtx): void {
  if (typeof value !== 'object' || value === null) return;
  for (const key of Object.keys(value)) {
    const meant = knownPropertyNear(key);
    if (meant)
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `did you mean \`${meant}\`? (a destination keeps any additional property, but not a near-miss of a known one)`,
      });
  }
  const props = value as Record<string, unknown>;
  for (const [field, allowed] of [
    ['ProxyType', proxyTypes],
    ['Authentication', authenticationTypes],
  ] as const) {
    const given = props[field];
    if (given !== undefined && !(allowed as readonly unknown[]).includes(given))
      ctx.addIssue({ code: 'custom', path: [field], message: oneOfMessage(field, allowed, given) });
  }
}

const always = { when: () => true };
const scenarioDestinationSchema = destinationSchema.superRefine(checkScenarioProperties, always);
const scenarioFragmentSchema = fragmentSchema.superRefine(checkScenarioProperties, always);
const scenarioCertificateSchema = certificateSchema.strict();

export const levelContentShape = {
  destinations: z.array(scenarioDestinationSchema).default([]),
  fragments: z.array(scenarioFragmentSchema).default([]),
  certificates: z.array(scenarioCertificateSchema).default([]),
};

/**
 * An instance level; on the provider, `sharedWithSubscriber` names its entries that are in the shared zone of
 * every subscription level (as `$metadata.shared_with_subscriber: true` does through the REST API).
 */
export const instanceLevelSchema = z
  .strictObject({ ...levelContentShape, sharedWithSubscriber: z.array(z.string()).default([]) })
  .superRefine((level, ctx) => {
    const known = new Set([
      ...level.destinations.map((d) => d.Name),
      ...level.fragments.map((f) => f.FragmentName),
      ...level.certificates.map((c) => c.Name),
    ]);
    level.sharedWithSubscriber.forEach((name, j) => {
      if (!known.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['sharedWithSubscriber', j],
          message: `"${name}" is not a destination, fragment or certificate of this instance level`,
        });
    });
  });

export type DestinationProps = z.output<typeof destinationSchema>;
export type FragmentProps = z.output<typeof fragmentSchema>;
export type CertificateProps = z.output<typeof certificateSchema>;
