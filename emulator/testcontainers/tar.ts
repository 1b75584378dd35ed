/**
 * The first regular file of a tar archive, which is what the Docker engine returns for `docker cp` and
 * Testcontainers' `copyArchiveFromContainer` (one file asked for, one file in the archive). A reader this small
 * keeps the Testcontainers face free of a tar dependency its users would have to install; it understands
 * ustar, GNU and PAX archives as far as a single small file needs: extension headers (PAX `x`/`g`, GNU long
 * names `L`/`K`) and directories are skipped by their size.
 */

/** The content of the first regular file in the tar `stream`. */
export async function firstFileOfTar(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk));
  const tar = Buffer.concat(chunks);
  for (let offset = 0; offset + 512 <= tar.length;) {
    if (tar[offset] === 0) break; // the zero blocks that end an archive
    const sizeField = tar
      .subarray(offset + 124, offset + 136)
      .toString('latin1')
      .replace(/\0.*$/s, '')
      .trim();
    if (!/^[0-7]*$/.test(sizeField))
      throw new Error(`the archive from the container has an unreadable size field "${sizeField}" at byte ${offset}`);
    const size = parseInt(sizeField || '0', 8);
    const type = String.fromCharCode(tar[offset + 156]);
    const start = offset + 512;
    if (start + size > tar.length) throw new Error('the archive from the container is truncated');
    if (type === '0' || type === '\0' || type === '7') return tar.subarray(start, start + size);
    offset = start + Math.ceil(size / 512) * 512;
  }
  throw new Error('no file in the archive from the container');
}
