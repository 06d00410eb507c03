/**
 * Who was kicked from which room: a kick is a ban, of the device and of the address it joined
 * from, for the room's lifetime. The table is keyed by the room's code and its DAW's peerId and
 * lives apart from the Room objects, so a room recreated from its hostToken (the DAW came back
 * after its grace period, or the server restarted and reloaded this table) keeps its bans, and
 * a new room that happens to get the same code does not inherit them.
 *
 * A room's lifetime ends when its DAW ends it (`leave`), or when its hostToken can no longer
 * recreate it (the token lifetime after the room closed by timeout). Pure: times are passed in.
 */

/** Entries kept per kind per room; past it the oldest is forgotten (a room holds 16 controllers). */
export const MAX_BANS_PER_ROOM = 256;
/** Ban lists kept in all; past it, the closed room whose list expires first is forgotten. */
export const MAX_BAN_LISTS = 40_000;

/** A room's bans as stored (docs/security.md: what is kept, where, for how long). */
export interface BanRecord {
  room: string;
  /** The room's DAW peerId: a new room with the same code is another room. */
  daw: string;
  devices: string[];
  addresses: string[];
  peerIds: string[];
  /** ms since the epoch; null while the room is open. */
  expiresAt: number | null;
}

export class BanList {
  readonly devices = new Set<string>();
  readonly addresses = new Set<string>();
  readonly peerIds = new Set<string>();
  /** When this list is forgotten; null while its room is open. */
  expiresAt: number | null = null;

  get empty(): boolean {
    return this.devices.size === 0 && this.addresses.size === 0 && this.peerIds.size === 0;
  }

  add(deviceId: string, address: string, peerId: string): void {
    addBounded(this.devices, deviceId);
    addBounded(this.addresses, address);
    addBounded(this.peerIds, peerId);
  }

  bans(deviceId: string, address: string): boolean {
    return this.devices.has(deviceId) || this.addresses.has(address);
  }
}

function addBounded(set: Set<string>, value: string): void {
  set.delete(value); // re-adding makes it the newest
  set.add(value);
  if (set.size > MAX_BANS_PER_ROOM) set.delete(set.values().next().value as string);
}

export class BanTable {
  readonly #lists = new Map<string, BanList>();

  constructor(private readonly lifetimeMs: number) {}

  get size(): number {
    return this.#lists.size;
  }

  /** A room opened (or was recreated): its list, if it has one, no longer expires. */
  opened(room: string, daw: string): BanList | undefined {
    const list = this.#lists.get(`${room}.${daw}`);
    if (list !== undefined) list.expiresAt = null;
    return list;
  }

  /** The list of an open room, made at its first kick (most rooms never need one). */
  open(room: string, daw: string): BanList {
    const key = `${room}.${daw}`;
    let list = this.#lists.get(key);
    if (list === undefined) {
      list = new BanList();
      this.#lists.set(key, list);
      this.#bound();
    }
    list.expiresAt = null;
    return list;
  }

  /**
   * The room closed. Ended by its DAW: its bans go. Timed out: they stay while its hostToken
   * could still recreate it. Returns whether anything a store keeps changed.
   */
  closed(room: string, daw: string, ended: boolean, now: number): boolean {
    const key = `${room}.${daw}`;
    const list = this.#lists.get(key);
    if (list === undefined) return false;
    if (ended || list.empty) {
      this.#lists.delete(key);
      return !list.empty;
    }
    list.expiresAt = now + this.lifetimeMs;
    return true;
  }

  /** Forgets expired lists; whether any went. */
  sweep(now: number): boolean {
    let changed = false;
    for (const [key, list] of this.#lists) {
      if (list.expiresAt !== null && list.expiresAt <= now) {
        this.#lists.delete(key);
        changed = true;
      }
    }
    return changed;
  }

  export(): BanRecord[] {
    const records: BanRecord[] = [];
    for (const [key, list] of this.#lists) {
      if (list.empty) continue;
      const dot = key.indexOf('.');
      records.push({
        room: key.slice(0, dot),
        daw: key.slice(dot + 1),
        devices: [...list.devices],
        addresses: [...list.addresses],
        peerIds: [...list.peerIds],
        expiresAt: list.expiresAt,
      });
    }
    return records;
  }

  /**
   * Takes back what `export` gave (after a restart, from a file: every field is checked, a bad
   * record is skipped). Rooms are not open after a restart, so an open room's list starts its
   * expiry now, as if its room had just closed.
   */
  restore(records: unknown, now: number): number {
    if (!Array.isArray(records)) return 0;
    let restored = 0;
    for (const record of records.slice(0, MAX_BAN_LISTS)) {
      if (!isBanRecord(record)) continue;
      const list = this.open(record.room, record.daw);
      for (const value of record.devices.slice(-MAX_BANS_PER_ROOM)) addBounded(list.devices, value);
      for (const value of record.addresses.slice(-MAX_BANS_PER_ROOM)) addBounded(list.addresses, value);
      for (const value of record.peerIds.slice(-MAX_BANS_PER_ROOM)) addBounded(list.peerIds, value);
      list.expiresAt = record.expiresAt ?? now + this.lifetimeMs;
      restored += 1;
    }
    this.sweep(now);
    return restored;
  }

  #bound(): void {
    if (this.#lists.size <= MAX_BAN_LISTS) return;
    let oldestKey: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [key, list] of this.#lists) {
      if (list.expiresAt !== null && list.expiresAt < oldest) {
        oldest = list.expiresAt;
        oldestKey = key;
      }
    }
    if (oldestKey !== undefined) this.#lists.delete(oldestKey);
  }
}

const ID = /^[\w-]{1,64}$/;
const strings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string' && item.length <= 64);

function isBanRecord(value: unknown): value is BanRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.room === 'string' &&
    ID.test(r.room) &&
    typeof r.daw === 'string' &&
    ID.test(r.daw) &&
    strings(r.devices) &&
    strings(r.addresses) &&
    strings(r.peerIds) &&
    (r.expiresAt === null || (typeof r.expiresAt === 'number' && Number.isFinite(r.expiresAt)))
  );
}
