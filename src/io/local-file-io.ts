/** FileIO on the local filesystem, for the embedded default and tests. Writes go through a temp file + rename. */
import type { Dir } from 'node:fs';
import { mkdir, opendir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { FloeError } from '../errors.js';
import type { FileIO, FileInfo } from './file-io.js';

export function localPath(path: string): string {
  if (path.startsWith('file:')) return fileURLToPath(path.startsWith('file://') ? path : `file://${path.slice(5)}`);
  if (path.startsWith('/')) return path;
  throw new FloeError('config_invalid', `local FileIO needs an absolute path or file:// URI, got "${path}"`, { path });
}

function classify(e: unknown, path: string, op: string): FloeError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new FloeError('io_not_found', `${op} ${path}: file not found`, { path }, e);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new FloeError('io_access_denied', `${op} ${path}: access denied (${code})`, { path }, e);
  return new FloeError('io_failed', `${op} ${path}: ${(e as Error).message}`, { path }, e);
}

export class LocalFileIO implements FileIO {
  async read(path: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(localPath(path)));
    } catch (e) {
      throw classify(e, path, 'read');
    }
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    const p = localPath(path);
    const tmp = `${p}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(dirname(p), { recursive: true });
      await writeFile(tmp, bytes);
      await rename(tmp, p);
    } catch (e) {
      await rm(tmp, { force: true });
      throw classify(e, path, 'write');
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(localPath(path));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw classify(e, path, 'stat');
    }
  }

  async delete(path: string): Promise<void> {
    try {
      await rm(localPath(path), { force: true });
    } catch (e) {
      throw classify(e, path, 'delete');
    }
  }

  /**
   * Walks the directory the prefix names (or the one it ends in), depth first, one directory handle open at a
   * time. Paths come back in the prefix's form: `file://` URIs for a `file://` prefix, plain absolute paths for
   * an absolute one. A file removed while the walk runs is skipped.
   */
  async *list(prefix: string): AsyncIterable<FileInfo> {
    const want = localPath(prefix);
    const form = prefix.startsWith('file://') ? 'file://' : prefix.startsWith('file:') ? 'file:' : '';
    const dirs = [want.endsWith('/') ? want.replace(/\/+$/, '') || '/' : dirname(want)];
    for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
      let d: Dir;
      try {
        d = await opendir(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue; // nothing there (yet), or gone meanwhile
        throw classify(e, dir, 'list');
      }
      for await (const ent of d) {
        const full = join(dir, ent.name);
        if (ent.isDirectory()) {
          // Only directories that can hold a match: below the prefix, or on the way to it.
          if (`${full}/`.startsWith(want) || want.startsWith(`${full}/`)) dirs.push(full);
          continue;
        }
        if (!ent.isFile() || !full.startsWith(want)) continue;
        let st;
        try {
          st = await stat(full);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw classify(e, full, 'stat');
        }
        yield { path: `${form}${full}`, sizeBytes: st.size, lastModifiedMs: st.mtimeMs };
      }
    }
  }
}
