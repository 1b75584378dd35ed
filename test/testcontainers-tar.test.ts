/**
 * The Testcontainers face's tar reader (`emulator/testcontainers/tar.ts`), which takes the emulator's CA out of the
 * archive the Docker engine sends for `copyArchiveFromContainer`. Runs without Docker: the archives are written by
 * tar-stream in the layouts real engines produce (ustar; PAX and GNU long-name headers; a directory first),
 * handed over in chunks of random sizes.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { pack, type Header } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { firstFileOfTar } from '../emulator/testcontainers/tar.ts';

type Entry = { header: Partial<Header> & { name: string }; content?: Buffer };

async function archive(entries: Entry[]): Promise<Buffer> {
  const tar = pack();
  for (const { header, content } of entries) tar.entry(header, content ?? Buffer.alloc(0));
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The bytes as a stream of chunks cut at `cuts` (fractions of the length). */
const chunked = (bytes: Buffer, cuts: number[] = []): Readable => {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const parts = [0, ...points, bytes.length].flatMap((p, i, all) => (i ? [bytes.subarray(all[i - 1], p)] : [])).filter((p) => p.length);
  return Readable.from(parts);
};

const caPem = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n');

describe('firstFileOfTar', () => {
  it('reads a plain ustar file, as `docker cp` of one file gives', async () => {
    expect(await firstFileOfTar(chunked(await archive([{ header: { name: 'ca.pem' }, content: caPem }])))).toEqual(caPem);
  });

  it('skips a PAX header (a long or non-ASCII name) and a leading directory entry', async () => {
    const longName = `${'d'.repeat(120)}/Zertifikatsstelle-Ü.pem`;
    const tar = await archive([{ header: { name: 'tls', type: 'directory' } }, { header: { name: longName }, content: caPem }]);
    expect(tar.subarray(0, 512).toString('latin1')).toContain('tls'); // the directory comes first
    expect(String.fromCharCode(tar[512 + 156])).toBe('x'); // then tar-stream's PAX header for the long name
    expect(await firstFileOfTar(chunked(tar, [0.1, 0.5]))).toEqual(caPem);
  });

  it('skips a GNU long-name entry (type L, as GNU tar writes it)', async () => {
    // tar-stream writes no GNU headers, so the first entry is turned into one: typeflag 'L', checksum redone.
    const tar = await archive([
      { header: { name: '././@LongLink' }, content: Buffer.from(`${'n'.repeat(150)}\0`) },
      { header: { name: 'n'.repeat(99) }, content: caPem },
    ]);
    tar.write('L', 156, 'latin1');
    tar.fill(0x20, 148, 156);
    const sum = tar.subarray(0, 512).reduce((a, b) => a + b, 0);
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(await firstFileOfTar(chunked(tar))).toEqual(caPem);
  });

  it('returns an empty file and a file of exactly one block', async () => {
    expect(await firstFileOfTar(chunked(await archive([{ header: { name: 'empty' }, content: Buffer.alloc(0) }])))).toEqual(
      Buffer.alloc(0),
    );
    const block = Buffer.alloc(512, 0x41);
    expect(
      await firstFileOfTar(
        chunked(
          await archive([
            { header: { name: 'dir', type: 'directory' } },
            { header: { name: 'block' }, content: block },
            { header: { name: 'second' }, content: caPem },
          ]),
        ),
      ),
    ).toEqual(block);
  });

  it('finds the first file whatever the names, sizes, extension headers and chunking', async () => {
    const name = fc
      .string({ unit: fc.constantFrom('a', 'Z', '9', '-', '.', 'ü', '/', '漢'), minLength: 1, maxLength: 180 })
      .filter((n) => !n.startsWith('/') && !n.includes('//'));
    await fc.assert(
      fc.asyncProperty(
        fc.array(name, { maxLength: 3 }),
        name,
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
        async (dirs, fileName, content, cuts) => {
          const tar = await archive([
            ...dirs.map((d) => ({ header: { name: d, type: 'directory' as const } })),
            { header: { name: fileName }, content: Buffer.from(content) },
            { header: { name: 'after' }, content: Buffer.from('not this one') },
          ]);
          expect(await firstFileOfTar(chunked(tar, cuts))).toEqual(Buffer.from(content));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('names the problem for an archive without a file, a truncated one and a damaged header', async () => {
    await expect(firstFileOfTar(chunked(await archive([{ header: { name: 'only-a-dir', type: 'directory' } }])))).rejects.toThrow(
      'no file in the archive from the container',
    );
    await expect(firstFileOfTar(chunked(Buffer.alloc(0)))).rejects.toThrow('no file in the archive from the container');
    const tar = await archive([{ header: { name: 'ca.pem' }, content: Buffer.alloc(2000, 1) }]);
    await expect(firstFileOfTar(chunked(tar.subarray(0, 1024)))).rejects.toThrow('the archive from the container is truncated');
    const damaged = Buffer.from(tar);
    damaged.write('zz', 124, 'latin1');
    await expect(firstFileOfTar(chunked(damaged))).rejects.toThrow(/unreadable size field/);
  });
});
