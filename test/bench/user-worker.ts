import { readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * The address where `wrangler dev`'s runtime serves the worker itself, behind wrangler's proxy.
 *
 * Every request to `wrangler dev` crosses its proxy (a second workerd process) before it reaches
 * the worker, and so does every WebSocket frame. Production has no such hop, so the fan-out
 * bench measures the hub at the worker's own address as well. Wrangler does not print that
 * address; its dev registry names the runtime's debug port, and the runtime's other listening
 * port that answers `/livez` with `{"live":true}` is the worker. Linux only (it reads /proc); null when not found, and
 * the bench then measures through the proxy alone and says so.
 */
export async function userWorkerOrigin(registryPath: string, workerName: string): Promise<string | null> {
  try {
    const entry = JSON.parse(await readFile(path.join(registryPath, workerName), 'utf8')) as { debugPortAddress?: string };
    const debugPort = Number(entry.debugPortAddress?.split(':').at(-1));
    if (!Number.isInteger(debugPort)) return null;
    const listening = await listeningSockets();
    const debugInode = [...listening].find(([, port]) => port === debugPort)?.[0];
    if (!debugInode) return null;
    const owned = await socketsOfProcessOwning(debugInode);
    for (const inode of owned) {
      const port = listening.get(inode);
      if (port === undefined || port === debugPort) continue;
      const origin = `http://127.0.0.1:${port}`;
      const res = await fetch(`${origin}/livez`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
      if (res?.ok && ((await res.json().catch(() => null)) as { live?: boolean } | null)?.live === true) return origin;
    }
    return null;
  } catch {
    return null;
  }
}

/** Inode → port of every IPv4 socket listening on 127.0.0.1. */
async function listeningSockets(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const lines = (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1);
  for (const line of lines) {
    const cols = line.trim().split(/\s+/);
    const [address, portHex] = (cols[1] ?? '').split(':');
    // State 0A is LISTEN; 0100007F is 127.0.0.1 in the kernel's byte order.
    if (cols[3] !== '0A' || address !== '0100007F' || !portHex || !cols[9]) continue;
    out.set(cols[9], parseInt(portHex, 16));
  }
  return out;
}

/** The socket inodes held by the process that holds `inode`. */
async function socketsOfProcessOwning(inode: string): Promise<string[]> {
  const target = `socket:[${inode}]`;
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
    if (!links.includes(target)) continue;
    return links.flatMap((l) => (l.startsWith('socket:[') ? [l.slice(8, -1)] : []));
  }
  return [];
}
