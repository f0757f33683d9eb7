//! Keeping the resident set flat over a long export.
//!
//! The heap itself stays flat (the sinks and the reader hold bounded buffers), but glibc's
//! allocator does not give freed memory back on its own. Two habits of it made the peak RSS
//! creep with the row count even though the live heap did not:
//! - it raises its mmap threshold each time a large block is freed, so later page-sized
//!   buffers come from the heap and leave holes there instead of being unmapped when freed;
//! - holes below the top of the heap stay resident until something trims them.
//!
//! [`tune_allocator`] pins the threshold, and [`Trimmer`] hands free pages back every few
//! thousand rows. Other allocators and platforms are left alone.

/// Blocks of this size or more are mapped, and unmapped when freed (glibc's initial value,
/// kept instead of letting it grow).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Rows encoded between two trims: a trim walks the free lists, so it is kept rare enough to
/// cost nothing measurable (under 1,000 trims for 5M rows).
const TRIM_EVERY_ROWS: u64 = 8192;

/// Pins glibc's mmap threshold. Called once, before any work.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called before other threads
    // exist and its failure (0) leaves the defaults, which are merely less frugal.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Counts encoded rows and returns free heap pages to the system every `TRIM_EVERY_ROWS`.
#[derive(Default)]
pub struct Trimmer {
    rows_since_trim: u64,
}

impl Trimmer {
    pub fn after(&mut self, rows: u64) {
        self.rows_since_trim += rows;
        if self.rows_since_trim >= TRIM_EVERY_ROWS {
            self.rows_since_trim = 0;
            trim();
        }
    }
}

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe (it locks each arena) and only releases free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
