/**
 * The real Chromium the browser tests drive (test/msw-browser.test.ts, test/saml-browser.test.ts), headless under
 * playwright-core. The binary is, in this order: CHROMIUM_PATH when set; the system's /usr/bin/chromium; else the
 * Chromium that the devDependency @sparticuz/chromium ships inside its npm package (Linux x64), so `npm ci && npm test`
 * needs nothing installed by hand. No usable browser is an error naming what to install or set, never a skip.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { findPackageJSON } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

const systemChromium = '/usr/bin/chromium';
const bundledPackage = '@sparticuz/chromium';
/** Where the bundled Chromium is unpacked, one folder per package version (about 210 MB, kept across runs). */
const cacheRoot = fileURLToPath(new URL('../node_modules/.cache/', import.meta.url));
/** One set of flags for every binary, so the tests see the same browser whichever one they got. */
const launchArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-zygote',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumBinary {
  path: string;
  /** Where it came from, for messages: `CHROMIUM_PATH`, `system` or `@sparticuz/chromium <version>`. */
  source: string;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Unpacks the bundled Chromium once per version. @sparticuz/chromium always unpacks into os.tmpdir() and reuses
 * whatever it finds there, so it runs in a child process with TMPDIR set to a fresh staging folder, which is then
 * renamed into place: test files (and separate runs) that start together never see a half-written binary.
 */
async function bundledChromium(): Promise<ChromiumBinary> {
  let packageJson: string | undefined;
  try {
    packageJson = findPackageJSON(bundledPackage, import.meta.url);
  } catch {
    // not resolvable: reported below
  }
  if (!packageJson)
    throw new Error(
      `No Chromium at ${systemChromium} and ${bundledPackage} is not installed: run \`npm ci\`, or set CHROMIUM_PATH to a Chromium or Chrome binary`,
    );
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  const source = `${bundledPackage} ${version}`;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `${source} ships Chromium for Linux x64 only (this is ${process.platform} ${process.arch}): set CHROMIUM_PATH to a Chromium or Chrome binary`,
    );
  }
  const target = join(cacheRoot, `sparticuz-chromium-${version}`);
  const binary = join(target, 'chromium');
  if (isExecutable(binary)) return { path: binary, source };

  await mkdir(cacheRoot, { recursive: true });
  const staging = await mkdtemp(join(cacheRoot, `sparticuz-chromium-${version}.staging-`));
  try {
    const entry = pathToFileURL(join(dirname(packageJson), 'build/index.js')).href;
    const script = `const { default: chromium } = await import(${JSON.stringify(entry)}); process.stdout.write(await chromium.executablePath());`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: staging },
    });
    if (stdout !== join(staging, 'chromium'))
      throw new Error(`${source} unpacked Chromium to ${stdout}, expected ${join(staging, 'chromium')}`);
    await rename(staging, target).catch((error: NodeJS.ErrnoException) => {
      // Another process put the same version in place first: use that one.
      if (!isExecutable(binary)) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  if (!isExecutable(binary)) throw new Error(`${source}: no executable Chromium at ${binary} after unpacking`);
  return { path: binary, source };
}

/** The Chromium binary the browser tests use (see the module comment for the order). */
export async function chromiumBinary(): Promise<ChromiumBinary> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!isExecutable(configured))
      throw new Error(
        `CHROMIUM_PATH=${configured} is not an executable file: point it at a Chromium or Chrome binary, or unset it to use ${systemChromium} or ${bundledPackage}`,
      );
    return { path: configured, source: 'CHROMIUM_PATH' };
  }
  if (existsSync(systemChromium)) return { path: systemChromium, source: 'system' };
  return bundledChromium();
}

/** Launches headless Chromium; a failure names the binary and where it came from. */
export async function launchChromium(): Promise<Browser> {
  const binary = await chromiumBinary();
  try {
    return await chromium.launch({ executablePath: binary.path, headless: true, args: launchArgs });
  } catch (error) {
    throw new Error(
      `Chromium (${binary.source}, ${binary.path}) did not start: ${(error as Error).message}. Set CHROMIUM_PATH to another Chromium or Chrome binary`,
      { cause: error },
    );
  }
}
