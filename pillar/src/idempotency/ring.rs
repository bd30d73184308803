//! The memory of [`MemoryStore`](super::MemoryStore): a fixed ring of records in the order
//! their calls were claimed, and an open-addressing index from key to slot.
//!
//! Built for a record that is full most of the time (every new call then forgets the
//! oldest finished one): a call touches one index entry at random and the ring's two ends,
//! which are sequential in memory. Nothing is allocated after the ring and index have
//! reached the capacity (the index is sized for it up front), so the record neither grows
//! in steps nor leaves freed holes behind.

use http::StatusCode;
use tokio::sync::watch;

/// A key, as its two hashes (keyed SipHash values, uniformly distributed).
pub(crate) type Key = (u64, u64);

/// The most records a ring holds: slot positions are kept in 32 bits.
pub(super) const MAX_RECORDS: usize = 1 << 31;

/// One record. `repr(C)` keeps what the ring's front is checked for (key, expiry, state)
/// in the first cache line, ahead of the answer's bytes.
#[repr(C)]
pub(super) struct Slot {
    pub(super) key: Key,
    pub(super) fingerprint: u64,
    /// Milliseconds since the store's epoch.
    pub(super) expires: u64,
    pub(super) state: SlotState,
}

pub(super) enum SlotState {
    /// The call is running. The sender is made when a repeat delivery first waits on the
    /// claim; dropping it wakes exactly the waiters of this key.
    Running(Option<watch::Sender<()>>),
    /// The call finished with this status and JSON body.
    Done { status: StatusCode, body: Body },
}

/// The most bytes of an answer kept in its slot: a slot is then three cache lines.
pub(super) const INLINE: usize = 150;

/// An answer's JSON bytes: in the slot when short (most answers: nothing to allocate or
/// free, and read with the slot), boxed otherwise.
pub(super) enum Body {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<[u8]>),
}

impl Body {
    pub(super) fn new(bytes: &[u8]) -> Self {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                Self::Inline { len, bytes: inline }
            }
            _ => Self::Boxed(Box::from(bytes)),
        }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Boxed(bytes) => bytes,
        }
    }

    /// The bytes it holds beside its slot: what the byte bound counts.
    pub(super) fn heap_len(&self) -> usize {
        match self {
            Self::Inline { .. } => 0,
            Self::Boxed(bytes) => bytes.len(),
        }
    }
}

impl SlotState {
    /// The bytes its answer holds beside the slot.
    fn heap_len(&self) -> usize {
        match self {
            Self::Running(_) => 0,
            Self::Done { body, .. } => body.heap_len(),
        }
    }
}

impl Slot {
    /// What a slot outside the live range holds.
    fn vacant() -> Self {
        Self {
            key: (0, 0),
            fingerprint: 0,
            expires: 0,
            state: SlotState::Running(None),
        }
    }
}

/// What [`Ring::make_room`] could do.
pub(super) enum Room {
    /// A slot was free, or freed by dropping expired records.
    Free,
    /// A finished record that had not expired was forgotten.
    Evicted,
    /// Every record is kept (a running claim, or with `evict == false` any unexpired
    /// record).
    Full,
}

/// What [`Ring::make_room_for_answer`] did.
pub(super) struct AnswerRoom {
    /// Whether the answer's bytes now fit under the bound.
    pub(super) fits: bool,
    /// Finished records that had not expired, forgotten to make the room.
    pub(super) evicted: u64,
}

/// The records, oldest claim first.
pub(super) struct Ring {
    /// Slot `head` is the oldest; `len` slots follow it, wrapping at `capacity`. The vector
    /// grows to `capacity` and then stays; slots outside the live range hold no body.
    slots: Vec<Slot>,
    head: usize,
    len: usize,
    capacity: usize,
    /// The bytes the live records' answers hold beside their slots ([`Body::heap_len`]):
    /// what the byte bound counts. Kept up to date by every change of a slot's state
    /// ([`push`](Self::push), [`set_state`](Self::set_state), `pop_front`).
    heap_bytes: usize,
    index: Index,
}

impl Ring {
    /// An empty ring for up to `capacity` records (at most [`MAX_RECORDS`]); memory for up
    /// to `reserve` of them is reserved now.
    pub(super) fn new(capacity: usize, reserve: usize) -> Self {
        let capacity = capacity.min(MAX_RECORDS);
        let reserve = reserve.min(capacity);
        Self {
            slots: Vec::with_capacity(reserve),
            head: 0,
            len: 0,
            capacity,
            heap_bytes: 0,
            index: Index::with_room_for(reserve),
        }
    }

    /// How many records are held.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The bytes the records' answers hold beside their slots.
    pub(super) fn heap_bytes(&self) -> usize {
        self.heap_bytes
    }

    /// Replaces the state of `key`'s record, keeping [`heap_bytes`](Self::heap_bytes)
    /// exact; gives the old state back (`None` when the key has no record).
    pub(super) fn set_state(&mut self, key: Key, state: SlotState) -> Option<SlotState> {
        let (_, pos) = self.locate(key).ok()?;
        let new = state.heap_len();
        let old = std::mem::replace(&mut self.slots[pos].state, state);
        self.heap_bytes = self.heap_bytes - old.heap_len() + new;
        Some(old)
    }

    /// Makes room for an answer holding `need` bytes beside its slot, under `max_bytes`
    /// for all the answers: drops the records at the front that expired by `now`, and
    /// with `evict` also the oldest finished ones, passing over running claims (which
    /// hold no answer), until the answer fits or nothing more may go. Each record is
    /// looked at once at most.
    pub(super) fn make_room_for_answer(
        &mut self,
        now: u64,
        evict: bool,
        need: usize,
        max_bytes: usize,
    ) -> AnswerRoom {
        let mut evicted = 0;
        let fits = |ring: &Self| need <= max_bytes.saturating_sub(ring.heap_bytes);
        // An answer larger than the bound never fits: nothing goes for it.
        let mut looks = if need > max_bytes { 0 } else { self.len };
        while !fits(self) && looks > 0 {
            looks -= 1;
            let front = &self.slots[self.head];
            if front.expires <= now {
                self.pop_front();
            } else if !evict {
                break;
            } else if matches!(front.state, SlotState::Done { .. }) {
                self.pop_front();
                evicted += 1;
            } else {
                self.rotate_front();
            }
        }
        AnswerRoom {
            fits: fits(self),
            evicted,
        }
    }

    /// The record of `key`.
    pub(super) fn get_mut(&mut self, key: Key) -> Option<&mut Slot> {
        let (_, pos) = self.locate(key).ok()?;
        Some(&mut self.slots[pos])
    }

    /// Drops the records at the front that expired by `now`.
    pub(super) fn sweep(&mut self, now: u64) {
        while self.len > 0 && self.slots[self.head].expires <= now {
            self.pop_front();
        }
    }

    /// Frees a slot for a new record, when every slot is taken.
    ///
    /// With `evict`, drops the oldest record that expired by `now` or is finished; a
    /// running claim before it is passed over (it becomes the newest: claim order is kept
    /// among the others), so the work is bounded by the number of running claims. Without
    /// `evict`, only an expired record at the front makes room (the records behind it
    /// were claimed later): a full ring answers in constant time.
    pub(super) fn make_room(&mut self, now: u64, evict: bool) -> Room {
        if self.len < self.capacity {
            return Room::Free;
        }
        if self.len == 0 {
            // A ring without room.
            return Room::Full;
        }
        if !evict {
            if self.slots[self.head].expires <= now {
                self.pop_front();
                return Room::Free;
            }
            return Room::Full;
        }
        for _ in 0..self.len {
            let front = &self.slots[self.head];
            if front.expires <= now {
                self.pop_front();
                return Room::Free;
            }
            if matches!(front.state, SlotState::Done { .. }) {
                self.pop_front();
                return Room::Evicted;
            }
            // Full, so the slot after the last is the first: passing over the front moves
            // the head and nothing else.
            self.rotate_front();
        }
        Room::Full
    }

    /// Makes the oldest record the newest (a running claim passed over when making
    /// room). In a full ring the slot after the last is the first, so only the head
    /// moves; otherwise the record moves to the slot after the last.
    fn rotate_front(&mut self) {
        if self.len < self.capacity {
            let tail = (self.head + self.len) % self.capacity;
            let key = self.slots[self.head].key;
            let entry = self.locate(key).ok().map(|(entry, _)| entry);
            let slot = std::mem::replace(&mut self.slots[self.head], Slot::vacant());
            if tail == self.slots.len() {
                self.slots.push(slot);
            } else {
                self.slots[tail] = slot;
            }
            if let Some(entry) = entry {
                self.index.set(entry, key, tail);
            }
        }
        self.head = self.next(self.head);
    }

    /// Adds the record of a key that has none; `false` when every slot is taken (see
    /// [`make_room`](Self::make_room)).
    pub(super) fn push(&mut self, slot: Slot) -> bool {
        if self.len >= self.capacity {
            return false;
        }
        let pos = (self.head + self.len) % self.capacity;
        self.index.grow_for(self.len + 1, &self.slots);
        let Err(hole) = self.locate(slot.key) else {
            // The caller checked that the key has no record; keep the one there.
            return false;
        };
        self.index.set(hole, slot.key, pos);
        self.heap_bytes += slot.state.heap_len();
        if pos == self.slots.len() {
            self.slots.push(slot);
        } else {
            self.slots[pos] = slot;
        }
        self.len += 1;
        true
    }

    /// The index entry and slot of `key`, or the empty entry where it would go.
    fn locate(&self, key: Key) -> Result<(usize, usize), usize> {
        self.index.find(key, |pos| self.slots[pos].key == key)
    }

    fn next(&self, pos: usize) -> usize {
        if pos + 1 == self.capacity {
            0
        } else {
            pos + 1
        }
    }

    fn pop_front(&mut self) {
        let slot = &mut self.slots[self.head];
        let key = slot.key;
        // Frees the body, and wakes the waiters of a claim that expired.
        let state = std::mem::replace(&mut slot.state, SlotState::Running(None));
        self.heap_bytes -= state.heap_len();
        drop(state);
        if let Ok((entry, _)) = self.locate(key) {
            self.index.remove(entry);
        }
        self.head = self.next(self.head);
        self.len -= 1;
    }
}

/// An open-addressing table (linear probing, at most half full) from a key to its slot.
///
/// An entry is `(tag << 32) | (slot + 1)`, 0 when empty; the tag is the low 32 bits of the
/// key's first hash, of which the low bits are the entry's home. A removal shifts the
/// entries after it back (no tombstones), so a lookup never probes further than the
/// cluster it lands in.
struct Index {
    entries: Vec<u64>,
    mask: usize,
}

impl Index {
    fn with_room_for(records: usize) -> Self {
        let size = (records.max(4) * 2).next_power_of_two();
        Self {
            // Zeroed memory from the allocator: pages are touched as entries are set.
            entries: vec![0; size],
            mask: size - 1,
        }
    }

    fn tag(key: Key) -> u64 {
        key.0 & 0xffff_ffff
    }

    fn home(&self, entry_or_tag: u64) -> usize {
        // The tag's low bits; the table has at most 2^32 entries.
        (entry_or_tag as usize) & self.mask
    }

    /// The entry and slot of `key` (`is_key` tells whether a slot holds it), or the empty
    /// entry where it would go.
    fn find(&self, key: Key, is_key: impl Fn(usize) -> bool) -> Result<(usize, usize), usize> {
        let tag = Self::tag(key);
        let mut at = self.home(tag);
        loop {
            let entry = self.entries[at];
            if entry == 0 {
                return Err(at);
            }
            let pos = (entry & 0xffff_ffff) as usize - 1;
            if entry >> 32 == tag && is_key(pos) {
                return Ok((at, pos));
            }
            at = (at + 1) & self.mask;
        }
    }

    fn set(&mut self, at: usize, key: Key, pos: usize) {
        self.entries[at] = (Self::tag(key) << 32) | (pos as u64 + 1);
    }

    /// Empties entry `at`, moving later entries of its cluster back so that each stays
    /// reachable from its home.
    fn remove(&mut self, mut hole: usize) {
        let mut at = hole;
        loop {
            at = (at + 1) & self.mask;
            let entry = self.entries[at];
            if entry == 0 {
                break;
            }
            let home = self.home(entry >> 32);
            // The entry may fill the hole unless its home lies cyclically in (hole, at].
            let stays = if hole < at {
                hole < home && home <= at
            } else {
                hole < home || home <= at
            };
            if !stays {
                self.entries[hole] = entry;
                hole = at;
            }
        }
        self.entries[hole] = 0;
    }

    /// Doubles the table, when it would be more than half full with `records`.
    fn grow_for(&mut self, records: usize, slots: &[Slot]) {
        if records * 2 <= self.entries.len() {
            return;
        }
        let old = std::mem::replace(self, Self::with_room_for(records * 2));
        for entry in old.entries.into_iter().filter(|&e| e != 0) {
            let pos = (entry & 0xffff_ffff) as usize - 1;
            let key = slots[pos].key;
            // Keys are distinct: the probe ends on an empty entry.
            if let Err(at) = self.find(key, |_| false) {
                self.set(at, key, pos);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn slot(key: Key, expires: u64, done: bool) -> Slot {
        Slot {
            key,
            fingerprint: 0,
            expires,
            state: if done {
                SlotState::Done {
                    status: StatusCode::OK,
                    body: Body::new(b"{}"),
                }
            } else {
                SlotState::Running(None)
            },
        }
    }

    /// Keys whose first hashes share their low bits, so that they collide in the index.
    fn colliding(n: u64) -> Key {
        ((n << 40) | 5, n)
    }

    #[test]
    fn the_index_agrees_with_a_map_through_inserts_and_removals() {
        // A ring of 64 records over an index that starts small (grows twice), keys that
        // collide in clusters, evicting as it goes: every key held is found, no other.
        let mut ring = Ring::new(64, 4);
        let mut model: HashMap<Key, u64> = HashMap::new();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for n in 0..5_000_u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = if n % 3 == 0 {
                colliding(state % 97)
            } else {
                (state, n)
            };
            if ring.get_mut(key).is_some() {
                continue;
            }
            if let Room::Evicted = ring.make_room(u64::MAX - 1, true) {
                // The oldest finished record went: the model forgets the same one.
                let oldest = *model.iter().min_by_key(|(_, &at)| at).unwrap().0;
                model.remove(&oldest);
            }
            assert!(ring.push(slot(key, u64::MAX, true)));
            model.insert(key, n);
            assert_eq!(ring.len(), model.len());
            if n % 97 == 0 {
                for key in model.keys() {
                    assert_eq!(ring.get_mut(*key).map(|s| s.key), Some(*key));
                }
                assert!(ring.get_mut((u64::MAX, u64::MAX)).is_none());
            }
        }
        assert_eq!(ring.len(), 64);
    }

    #[test]
    fn a_full_ring_passes_over_running_records_and_keeps_claim_order() {
        let mut ring = Ring::new(3, 3);
        ring.push(slot((1, 1), 100, true));
        ring.push(slot((2, 2), 100, false));
        ring.push(slot((3, 3), 100, true));
        assert!(!ring.push(slot((4, 4), 100, true)));
        assert!(matches!(ring.make_room(0, true), Room::Evicted));
        assert!(ring.get_mut((1, 1)).is_none());
        ring.push(slot((4, 4), 100, true));
        // Oldest first: 2 (running, passed over), then 3.
        assert!(matches!(ring.make_room(0, true), Room::Evicted));
        assert!(ring.get_mut((3, 3)).is_none());
        assert!(ring.get_mut((2, 2)).is_some());
        // Without eviction only an expired record at the front makes room: 5 expires
        // first, but 4 and 2 came before it.
        ring.push(slot((5, 5), 50, true));
        assert!(matches!(ring.make_room(60, false), Room::Full));
        assert!(matches!(ring.make_room(100, false), Room::Free));
        assert!(ring.get_mut((4, 4)).is_none());
        assert_eq!(ring.len(), 2);
    }

    #[test]
    fn a_ring_of_running_records_is_full() {
        let mut ring = Ring::new(2, 2);
        ring.push(slot((1, 1), 100, false));
        ring.push(slot((2, 2), 100, false));
        assert!(matches!(ring.make_room(0, true), Room::Full));
        // Sweeping drops what expired at the front only.
        ring.sweep(100);
        assert_eq!(ring.len(), 0);
        assert!(matches!(ring.make_room(0, true), Room::Free));
    }

    #[test]
    fn short_answers_are_kept_in_the_slot_and_long_ones_boxed() {
        for len in [0, 1, INLINE - 1, INLINE, INLINE + 1, 4096] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let body = Body::new(&bytes);
            assert_eq!(body.as_bytes(), &bytes[..], "{len}");
            assert_eq!(matches!(body, Body::Inline { .. }), len <= INLINE, "{len}");
        }
        assert!(std::mem::size_of::<Slot>() <= 192);
        assert!(std::mem::offset_of!(Slot, state) < 64);
    }

    fn boxed(key: Key, expires: u64, len: usize) -> Slot {
        Slot {
            key,
            fingerprint: 0,
            expires,
            state: SlotState::Done {
                status: StatusCode::OK,
                body: Body::new(&vec![b'x'; len]),
            },
        }
    }

    #[test]
    fn answer_bytes_are_counted_and_made_room_for_in_claim_order() {
        // Room for 10 records, 1000 bytes: the byte bound binds first.
        let mut ring = Ring::new(10, 10);
        ring.push(slot((1, 1), 100, false));
        ring.push(boxed((2, 2), 100, 400));
        ring.push(slot((3, 3), 100, false));
        ring.push(boxed((4, 4), 100, 400));
        ring.push(boxed((5, 5), 100, 100)); // inline: counts nothing
        assert_eq!(ring.heap_bytes(), 800);
        // 300 more fit without anything going.
        let room = ring.make_room_for_answer(0, true, 200, 1000);
        assert!(room.fits && room.evicted == 0);
        // 600 more: the running claim 1 is passed over (moved behind, the ring not being
        // full), and 2, the oldest finished record, goes; that is enough.
        let room = ring.make_room_for_answer(0, true, 600, 1000);
        assert!(room.fits, "{}", ring.heap_bytes());
        assert_eq!((room.evicted, ring.heap_bytes(), ring.len()), (1, 400, 4));
        for key in [(1, 1), (3, 3), (4, 4), (5, 5)] {
            assert_eq!(ring.get_mut(key).map(|s| s.key), Some(key));
        }
        assert!(ring.get_mut((2, 2)).is_none());
        // Without eviction, only expired records at the front go (6 expired, but 3 is in
        // front of it); then it gives up.
        ring.push(boxed((6, 6), 50, 500));
        assert_eq!(ring.heap_bytes(), 900);
        let room = ring.make_room_for_answer(60, false, 200, 1000);
        assert!(!room.fits && room.evicted == 0);
        // More than the bound never fits, whatever goes.
        assert!(!ring.make_room_for_answer(0, true, 1001, 1000).fits);
        // Replacing a state keeps the count exact.
        let old = ring.set_state((1, 1), SlotState::Running(None));
        assert!(old.is_some());
        assert!(ring.set_state((9, 9), SlotState::Running(None)).is_none());
        // Claim order is kept after the moves: expiring everything empties it, and the
        // bytes go back to 0.
        ring.sweep(u64::MAX);
        assert_eq!((ring.len(), ring.heap_bytes()), (0, 0));
    }

    #[test]
    fn a_ring_without_room_takes_nothing() {
        let mut ring = Ring::new(0, 0);
        assert!(matches!(ring.make_room(0, true), Room::Full));
        assert!(matches!(ring.make_room(0, false), Room::Full));
        assert!(!ring.push(slot((1, 1), 1, true)));
        assert!(ring.get_mut((1, 1)).is_none());
    }
}
