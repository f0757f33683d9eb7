//! Keeping the resident set flat over a long export: the process allocates through jemalloc,
//! which hands freed pages back to the system at once.
//!
//! The live heap of an export is bounded (the reader, the channel and the sinks hold fixed-size
//! buffers), but with glibc's allocator the peak RSS still crept up with the row count: freed
//! memory stayed in fragmented arenas, and the fragmentation grew over a long run (measured
//! with `mallinfo2` per batch: free heap 6–7 MiB in the first million rows, 8–10 MiB later,
//! even with the mmap threshold pinned and `malloc_trim` every 8,192 rows). jemalloc serves
//! each size class from its own slabs, and with no decay delay purges dirty pages as soon as
//! they are free, so what stays resident follows what is live.
//!
//! jemalloc replaces `malloc` for the whole process, not only for Rust code: zstd's contexts,
//! one per Parquet column, are allocated by C code.

// Linked in by name: the override of `malloc` for C code needs the crate seen by rustc.
#[cfg(unix)]
use tikv_jemalloc_sys as _;

#[cfg(unix)]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main` from this symbol: freed pages are returned to the
/// system immediately (`*_decay_ms:0`) instead of over the default 10 seconds, during which a
/// few batches' worth of freed pages would count in the resident set.
/// A decay of 300 ms was tried: it saved a million-leg Parquet export 2 s of system time
/// (pages returned and faulted back in) but not wall time (the server is the bottleneck), and
/// a restated nightly run, with its open part files, peaked at 87 MiB instead of 59.
/// jemalloc declares it `const char *malloc_conf`: a pointer to a NUL-terminated string, here
/// a reference to the first byte of one.
#[cfg(unix)]
#[used]
#[unsafe(export_name = "malloc_conf")]
static MALLOC_CONF: &u8 = &MALLOC_CONF_TEXT[0];
#[cfg(unix)]
static MALLOC_CONF_TEXT: [u8; 34] = *b"dirty_decay_ms:0,muzzy_decay_ms:0\0";

#[cfg(all(test, unix))]
mod tests {
    use std::ffi::{CStr, c_void};

    /// Reads one of jemalloc's `ssize_t` settings.
    fn jemalloc_setting(name: &CStr) -> isize {
        let mut value: isize = -1;
        let mut len = std::mem::size_of::<isize>();
        // SAFETY: `value` and `len` describe a writable ssize_t, as the setting is declared.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&raw mut value).cast::<c_void>(),
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        assert_eq!(rc, 0, "mallctl {name:?}");
        value
    }

    #[test]
    fn jemalloc_returns_freed_pages_at_once() {
        assert_eq!(jemalloc_setting(c"opt.dirty_decay_ms"), 0);
        assert_eq!(jemalloc_setting(c"opt.muzzy_decay_ms"), 0);
    }

    #[test]
    fn c_code_allocates_through_jemalloc_too() {
        // The `malloc` every library of the process resolves to is jemalloc's, not glibc's
        // (which it would be if jemalloc were built with prefixed names).
        // SAFETY: dlsym only looks the name up.
        let resolved = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"malloc".as_ptr()) };
        let jemalloc_malloc = tikv_jemalloc_sys::malloc as *const ();
        assert_eq!(resolved.cast_const(), jemalloc_malloc.cast());
    }
}
