//! The connector's memory allocator: an arena for one call.
//!
//! The host runs every call in a fresh instance and throws its memory away
//! when the call ends, so a connector's allocator never has to give memory
//! back to anyone: it only has to be fast and not waste much within one
//! call. This one hands out small blocks (up to [`SMALL`] bytes) in eight
//! power-of-two sizes, each size with its own free list, so a block freed
//! is reused by the next allocation of its size; larger blocks come from
//! the top of the arena, and the topmost one grows, shrinks and is given
//! back in place (a growing `Vec` or `String` costs no copy). A large block
//! freed below the top stays unused until the call ends.
//!
//! The arena starts in a region of [`FIRST`] bytes reserved in the
//! module's own zeroed data, inside the memory every instance starts with,
//! and asks `memory.grow` for more only beyond it. A call that stays within
//! it never grows its memory, so the host never has to change the memory's
//! mapping when it resets the instance for the next call (growing memory
//! under load costs every thread of the host a TLB flush).
//!
//! It is the global allocator of every connector built for wasm32 with the
//! SDK's default `call-arena` feature. A connector that allocates and frees
//! large blocks out of order many times in one call (more than its memory
//! limit in total) can turn the feature off (`default-features = false`) to
//! use the Rust standard library's allocator instead.

// An allocator is unsafe code by nature; it is kept to this module.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};

/// The largest size served from a free list.
pub const SMALL: usize = 2048;
/// The smallest block, and the alignment every small block has.
const MIN: usize = 16;
/// Size classes: 16, 32, …, 2048 bytes.
const CLASSES: usize = 8;
/// How much the arena asks for at once, at least (one WebAssembly page).
const CHUNK: usize = 64 << 10;
/// The region the arena starts in, part of the memory an instance starts
/// with (zeroed data: it adds nothing to the file).
pub const FIRST: usize = 512 << 10;

/// Where the arena's memory comes from.
pub(crate) trait Pages {
    /// At least `bytes` more bytes (a multiple of [`CHUNK`]): the start and
    /// length of the new region, or `None` when no more may be had.
    fn grow(&mut self, bytes: usize) -> Option<(usize, usize)>;
}

/// The arena's state: the free region at the top and one free list per
/// small size.
pub(crate) struct Arena<P> {
    next: usize,
    end: usize,
    free: [usize; CLASSES],
    pages: P,
}

fn class(size: usize) -> usize {
    (size.max(MIN).next_power_of_two().trailing_zeros() - MIN.trailing_zeros()) as usize
}

fn is_small(layout: Layout) -> bool {
    layout.size() <= SMALL && layout.align() <= MIN
}

impl<P: Pages> Arena<P> {
    pub(crate) const fn new(pages: P) -> Self {
        Arena {
            next: 0,
            end: 0,
            free: [0; CLASSES],
            pages,
        }
    }

    /// `size` bytes aligned to `align` from the top; 0 when out of memory.
    fn bump(&mut self, size: usize, align: usize) -> usize {
        let start = self.next.next_multiple_of(align);
        if let Some(end) = start.checked_add(size)
            && end <= self.end
        {
            self.next = end;
            return start;
        }
        let want = size.saturating_add(align).next_multiple_of(CHUNK);
        let Some((region, len)) = self.pages.grow(want) else {
            return 0;
        };
        if region != self.end || self.next.next_multiple_of(align) + size > region + len {
            // Not contiguous with the arena (the first region, or something
            // else grew the memory in between): start over in the new one.
            self.next = region;
        }
        self.end = region + len;
        let start = self.next.next_multiple_of(align);
        self.next = start + size;
        start
    }

    /// # Safety
    /// As `GlobalAlloc::alloc`.
    pub(crate) unsafe fn alloc(&mut self, layout: Layout) -> *mut u8 {
        if is_small(layout) {
            let c = class(layout.size());
            let head = self.free[c];
            if head != 0 {
                // SAFETY: a free block holds the address of the next one.
                self.free[c] = unsafe { *(head as *const usize) };
                return head as *mut u8;
            }
            return self.bump(MIN << c, MIN) as *mut u8;
        }
        self.bump(layout.size(), layout.align()) as *mut u8
    }

    /// # Safety
    /// As `GlobalAlloc::dealloc`.
    pub(crate) unsafe fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        let at = ptr as usize;
        if is_small(layout) {
            let c = class(layout.size());
            // SAFETY: the block is at least MIN bytes and ours again.
            unsafe { *(ptr as *mut usize) = self.free[c] };
            self.free[c] = at;
        } else if at + layout.size() == self.next {
            self.next = at;
        }
    }

    /// # Safety
    /// As `GlobalAlloc::realloc`.
    pub(crate) unsafe fn realloc(&mut self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        let at = ptr as usize;
        let small = is_small(layout);
        if small && new <= SMALL && class(new) == class(layout.size()) {
            return ptr;
        }
        if !small && new > SMALL && at + layout.size() == self.next {
            // The topmost block: grow or shrink it where it is.
            if at + new <= self.end {
                self.next = at + new;
                return ptr;
            }
        }
        // SAFETY: `new` is nonzero and fits `layout.align()` (GlobalAlloc's contract).
        let to = unsafe { self.alloc(Layout::from_size_align_unchecked(new, layout.align())) };
        if !to.is_null() {
            // SAFETY: both blocks are ours and distinct.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, to, layout.size().min(new));
                self.dealloc(ptr, layout);
            }
        }
        to
    }
}

/// The connectors' global allocator (see the module's documentation).
pub struct CallArena(core::cell::UnsafeCell<Arena<Memory>>);

/// The first region, page-aligned so that no other data shares its pages.
#[repr(C, align(4096))]
struct First(core::cell::UnsafeCell<[u8; FIRST]>);

// SAFETY: only the arena uses it, from one thread (see `CallArena`).
unsafe impl Sync for First {}

static FIRST_REGION: First = First(core::cell::UnsafeCell::new([0; FIRST]));

/// The first region, then WebAssembly's `memory.grow` on memory 0.
pub(crate) struct Memory {
    first_given: bool,
}

impl Pages for Memory {
    fn grow(&mut self, bytes: usize) -> Option<(usize, usize)> {
        if !self.first_given && bytes <= FIRST {
            self.first_given = true;
            return Some((FIRST_REGION.0.get() as usize, FIRST));
        }
        #[cfg(target_arch = "wasm32")]
        {
            let pages = core::arch::wasm32::memory_grow(0, bytes / CHUNK);
            (pages != usize::MAX).then_some((pages * CHUNK, bytes))
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            None
        }
    }
}

impl CallArena {
    /// The arena, empty until the first allocation.
    pub const fn new() -> Self {
        CallArena(core::cell::UnsafeCell::new(Arena::new(Memory {
            first_given: false,
        })))
    }
}

impl Default for CallArena {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: a connector runs on one thread (wasm32-wasip2 and
// wasm32-unknown-unknown have none other);
// nothing reaches the arena from two threads at once.
unsafe impl Sync for CallArena {}

// SAFETY: every block handed out is within memory the arena was given,
// aligned as asked, and handed out once until it is freed.
unsafe impl GlobalAlloc for CallArena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: one thread (see `Sync`), and no reentrancy: the arena
        // never allocates itself.
        unsafe { (*self.0.get()).alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`.
        unsafe { (*self.0.get()).dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe { (*self.0.get()).realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory of `CHUNK`-sized pages in a `Vec`, handed out in order
    /// (or, with `gap`, with a page skipped as another grower would).
    struct Heap {
        base: usize,
        used: usize,
        cap: usize,
        gap: bool,
        _mem: Vec<u8>,
    }

    fn heap(pages: usize) -> Heap {
        let mem = vec![0u8; (pages + 1) * CHUNK];
        let base = (mem.as_ptr() as usize).next_multiple_of(CHUNK);
        Heap {
            base,
            used: 0,
            cap: pages * CHUNK,
            gap: false,
            _mem: mem,
        }
    }

    impl Pages for Heap {
        fn grow(&mut self, bytes: usize) -> Option<(usize, usize)> {
            if self.gap {
                self.used += CHUNK;
            }
            (self.used + bytes <= self.cap).then(|| {
                let at = self.base + self.used;
                self.used += bytes;
                (at, bytes)
            })
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn a_freed_small_block_is_reused_by_its_size_and_blocks_never_overlap() {
        let mut a = Arena::new(heap(8));
        unsafe {
            let x = a.alloc(layout(24, 8));
            let y = a.alloc(layout(30, 8));
            assert_eq!(x as usize % MIN, 0);
            assert!(
                y as usize >= x as usize + 32,
                "24 and 30 bytes are 32-byte blocks"
            );
            x.write_bytes(0xAA, 24);
            y.write_bytes(0xBB, 30);
            assert_eq!(*x.add(23), 0xAA);
            a.dealloc(x, layout(24, 8));
            let z = a.alloc(layout(17, 4));
            assert_eq!(z, x, "the 32-byte block freed is the next 32-byte block");
            let w = a.alloc(layout(8, 8));
            assert_ne!(w, x);
            assert_eq!(*y.add(29), 0xBB, "nothing else was written over");
        }
    }

    #[test]
    fn the_top_block_grows_and_shrinks_in_place_and_alignment_holds() {
        let mut a = Arena::new(heap(8));
        unsafe {
            let v = a.alloc(layout(4096, 8));
            v.write_bytes(7, 4096);
            let grown = a.realloc(v, layout(4096, 8), 40_000);
            assert_eq!(grown, v, "the topmost block grows where it is");
            assert_eq!(*grown.add(4095), 7);
            let big = a.alloc(layout(10_000, 4096));
            assert_eq!(big as usize % 4096, 0);
            // Not on top any more: moving keeps the contents.
            let moved = a.realloc(grown, layout(40_000, 8), 50_000);
            assert_ne!(moved, grown);
            assert_eq!(*moved.add(4095), 7);
            // The top block given back is handed out again.
            a.dealloc(moved, layout(50_000, 8));
            let again = a.alloc(layout(50_000, 8));
            assert_eq!(again, moved);
        }
    }

    #[test]
    fn the_arena_starts_in_its_first_region_before_growing_memory() {
        let mut a = Arena::new(Memory { first_given: false });
        let base = FIRST_REGION.0.get() as usize;
        unsafe {
            let x = a.alloc(layout(100_000, 8));
            let y = a.alloc(layout(64, 8));
            for p in [x as usize, y as usize] {
                assert!(
                    (base..base + FIRST).contains(&p),
                    "{p:#x} outside the first region"
                );
            }
            // Natively there is no memory.grow: what the first region cannot
            // hold is refused.
            assert!(a.alloc(layout(FIRST, 8)).is_null());
        }
    }

    #[test]
    fn out_of_memory_is_null_and_a_gap_in_the_memory_is_stepped_over() {
        let mut a = Arena::new(heap(3));
        unsafe {
            assert!(
                a.alloc(layout(4 * CHUNK, 8)).is_null(),
                "more than there is"
            );
            let x = a.alloc(layout(CHUNK, 8));
            assert!(!x.is_null());
        }
        let mut h = heap(6);
        h.gap = true;
        let mut a = Arena::new(h);
        unsafe {
            let x = a.alloc(layout(CHUNK - 64, 8));
            let y = a.alloc(layout(CHUNK, 8));
            assert!(
                y as usize >= x as usize + 2 * CHUNK - 64,
                "the skipped page is not used"
            );
            y.write_bytes(1, CHUNK);
        }
    }
}
