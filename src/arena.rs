//! The `svc` binary's allocator: the system allocator, plus a bump arena that `svc check`
//! switches on.
//!
//! `svc check` is a short-lived process that builds one large compilation and exits without
//! freeing it. For that shape, glibc's malloc costs a quarter of the instructions and ten
//! thousand page faults (one per fresh 4 KiB page). The arena is one large anonymous mapping
//! (address space only, `MAP_NORESERVE`) marked for transparent huge pages: an allocation is
//! an atomic pointer bump, memory arrives in 2 MiB pages, and `free` does nothing (the
//! memory goes back when the process exits). A `realloc` of the newest block grows in place.
//!
//! Invariants:
//! - The arena is only switched on by `svc check`, before it allocates anything large, and
//!   never off. `svc run` never switches it on: the daemon uses the system allocator and its
//!   memory is reused and returned as usual.
//! - Memory allocated before the switch, and any allocation the arena cannot serve (when it
//!   is full), comes from the system allocator and goes back to it: `dealloc` tells the two
//!   apart by address.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Address space reserved for the arena (only what is touched costs memory).
const ARENA_BYTES: usize = 16 << 30;

static START: AtomicUsize = AtomicUsize::new(0);
static NEXT: AtomicUsize = AtomicUsize::new(0);
static END: AtomicUsize = AtomicUsize::new(0);

/// The global allocator of the binary.
pub struct Allocator;

/// Reserves the arena and serves every later allocation from it. Does nothing if the
/// mapping cannot be made (allocation stays with the system allocator).
pub fn enable() {
    if END.load(Ordering::Acquire) != 0 {
        return;
    }
    // SAFETY: a fresh private anonymous mapping that nothing else refers to.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            ARENA_BYTES,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return;
    }
    // SAFETY: advice on our own mapping; failure only means 4 KiB pages.
    unsafe { libc::madvise(base, ARENA_BYTES, libc::MADV_HUGEPAGE) };
    let start = base as usize;
    START.store(start, Ordering::Release);
    NEXT.store(start, Ordering::Release);
    END.store(start + ARENA_BYTES, Ordering::Release);
}

fn in_arena(ptr: *mut u8) -> bool {
    let address = ptr as usize;
    address >= START.load(Ordering::Acquire) && address < END.load(Ordering::Acquire)
}

/// Bumps the arena by `layout`; `None` when it is off or full.
fn bump(layout: Layout) -> Option<*mut u8> {
    let end = END.load(Ordering::Acquire);
    if end == 0 {
        return None;
    }
    let mut current = NEXT.load(Ordering::Relaxed);
    loop {
        let aligned = current.checked_add(layout.align() - 1)? & !(layout.align() - 1);
        let next = aligned.checked_add(layout.size())?;
        if next > end {
            return None;
        }
        match NEXT.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Some(aligned as *mut u8),
            Err(actual) => current = actual,
        }
    }
}

// SAFETY: every block handed out is either a fresh, exclusive, suitably aligned range of the
// arena (never handed out twice: the bump pointer only moves forward) or comes from `System`
// and is returned to it.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match bump(layout) {
            Some(ptr) => ptr,
            // SAFETY: forwarded with the caller's guarantees.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // Arena memory is fresh from the kernel, hence zero.
        match bump(layout) {
            Some(ptr) => ptr,
            // SAFETY: forwarded with the caller's guarantees.
            None => unsafe { System.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !in_arena(ptr) {
            // SAFETY: `ptr` came from `System` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_arena(ptr) {
            // SAFETY: `ptr` came from `System` with this layout.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        let old_end = ptr as usize + layout.size();
        let new_end = ptr as usize + new_size;
        // The newest block grows (or shrinks) in place.
        if new_end <= END.load(Ordering::Acquire)
            && NEXT
                .compare_exchange(old_end, new_end, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: `new_size` and the alignment form a valid layout (the caller's guarantee).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for `layout.size()` bytes and do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
        }
        new
    }
}
