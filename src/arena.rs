//! The binaries' allocator: a static arena handed out in order.
//!
//! One run allocates about 150 KiB in all (the 128 KiB netlink receive
//! buffer and a few dozen KiB besides) and exits within a millisecond. musl's malloc maps and unmaps pages as it goes (18 mmap and
//! munmap calls in one vnet-ifup, each page then faulted in afresh), which
//! cost about a fifth of a run's CPU time. The arena never gives memory
//! back: it lives in .bss, the block freed last is reused, and whatever
//! does not fit goes to the system allocator. Only the two `main`s install
//! it; tests and benches keep the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{
    AtomicUsize,
    Ordering::{AcqRel, Acquire},
};

/// Room for a run's peak (measured: vnet-ifup 151 KiB, `--check` 154 KiB,
/// vnet-ifdown 138 KiB) with some to spare; untouched pages cost nothing.
const SIZE: usize = 256 * 1024;

#[repr(C, align(4096))]
struct Memory(UnsafeCell<[u8; SIZE]>);

// SAFETY: blocks are disjoint ranges, each claimed by one compare_exchange
// on NEXT. That exchange is AcqRel: a thread that claims a range another
// thread gave back (dealloc's Release) sees that thread's last accesses to
// it as done (Acquire), so reusing a block is never a data race, whatever
// the number of threads. The binaries have one; the claim holds regardless.
unsafe impl Sync for Memory {}

static MEMORY: Memory = Memory(UnsafeCell::new([0; SIZE]));
/// Offset of the first free byte of MEMORY.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// `#[global_allocator]` for vnet-ifup and vnet-ifdown.
pub struct Arena;

/// The offset of `ptr` in MEMORY, if it points there.
fn offset(ptr: *mut u8) -> Option<usize> {
    let at = (ptr as usize).wrapping_sub(MEMORY.0.get() as usize);
    (at < SIZE).then_some(at)
}

// SAFETY: alloc returns blocks of the layout's size and alignment that no
// other live block overlaps; the rest is passed to System unchanged.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = MEMORY.0.get().cast::<u8>();
        let mut next = NEXT.load(Acquire);
        loop {
            let start = (base as usize + next).next_multiple_of(layout.align()) - base as usize;
            let end = start.saturating_add(layout.size());
            if end > SIZE {
                // SAFETY: the caller's layout, as it gave it.
                return unsafe { System.alloc(layout) };
            }
            match NEXT.compare_exchange_weak(next, end, AcqRel, Acquire) {
                Ok(_) => return base.wrapping_add(start),
                Err(now) => next = now,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match offset(ptr) {
            // Only the last block can be taken back; the others stay used.
            Some(at) => _ = NEXT.compare_exchange(at + layout.size(), at, AcqRel, Acquire),
            // SAFETY: System allocated it, with this layout.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if let Some(at) = offset(ptr) {
            // The last block grows or shrinks where it is, if it fits.
            let (old_end, new_end) = (at + layout.size(), at.saturating_add(new_size));
            let in_place = new_end <= SIZE
                && NEXT
                    .compare_exchange(old_end, new_end, AcqRel, Acquire)
                    .is_ok();
            // A block that shrinks keeps its place even when it is not last.
            if in_place || new_size <= layout.size() {
                return ptr;
            }
        }
        // SAFETY: the caller guarantees new_size, rounded to the alignment,
        // does not overflow isize; the copy stays within both blocks.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new = self.alloc(new_layout);
            if !new.is_null() {
                ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            new
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test, as the arena is one static for the whole test binary.
    #[test]
    fn blocks_are_aligned_disjoint_reused_and_spill_to_the_system() {
        let layout = |size, align| Layout::from_size_align(size, align).unwrap();
        // SAFETY: every block is used within its layout and freed with it.
        unsafe {
            let a = Arena.alloc(layout(3, 1));
            let b = Arena.alloc(layout(64, 64));
            assert_eq!(b as usize % 64, 0);
            assert!(b as usize >= a as usize + 3);
            b.write_bytes(0xab, 64);
            // The last block is reused, and grows in place.
            Arena.dealloc(b, layout(64, 64));
            assert_eq!(Arena.alloc(layout(64, 64)), b);
            assert_eq!(Arena.realloc(b, layout(64, 64), 4096), b);
            // A block that is not the last moves, keeping its bytes.
            a.write_bytes(7, 3);
            let moved = Arena.realloc(a, layout(3, 1), 10);
            assert_ne!(moved, a);
            assert_eq!(*moved.add(2), 7);
            // More than the arena holds comes from the system.
            let big = Arena.alloc(layout(2 * SIZE, 8));
            assert!(offset(big).is_none());
            big.write_bytes(1, 2 * SIZE);
            Arena.dealloc(big, layout(2 * SIZE, 8));
        }
    }
}
