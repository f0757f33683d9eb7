//! Where a row group's finished pages wait until the group closes: an unlinked file on the
//! output's own disk, not the heap.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use parquet::arrow::arrow_writer::{PageKey, PageStore, PageStoreArgs, PageStoreFactory};

/// Keeps the finished pages of each column chunk in an anonymous file in `dir` until the row
/// group is closed. The file has no name (it is unlinked at creation), so nothing is left behind
/// even if the process is killed; `dir` is the output's own directory when there is one, so the
/// spill lands on the disk that has to hold the output anyway, not on a RAM-backed /tmp.
#[derive(Debug)]
pub(super) struct SpillPages {
    pub(super) dir: PathBuf,
}

impl PageStoreFactory for SpillPages {
    fn create(&self, _column: &PageStoreArgs<'_>) -> parquet::errors::Result<Box<dyn PageStore>> {
        Ok(Box::new(SpillFile::create(&self.dir)?))
    }
}

/// One column chunk's pages, appended to a file and read back once, in order, when the row
/// group is written out.
struct SpillFile {
    file: File,
    end: u64,
    /// Offset and length of each page, indexed by its key.
    pages: Vec<(u64, usize)>,
}

impl SpillFile {
    fn create(dir: &Path) -> std::io::Result<Self> {
        Ok(SpillFile {
            file: tempfile::tempfile_in(dir)?,
            end: 0,
            pages: Vec::new(),
        })
    }
}

impl PageStore for SpillFile {
    fn put(&mut self, page: Bytes) -> parquet::errors::Result<PageKey> {
        // Positioned writes and reads: no shared cursor to keep in step.
        self.file.write_all_at(&page, self.end)?;
        self.pages.push((self.end, page.len()));
        self.end += page.len() as u64;
        Ok(PageKey::new(self.pages.len() as u64 - 1))
    }

    fn take(&mut self, key: PageKey) -> parquet::errors::Result<Bytes> {
        let (offset, len) = *usize::try_from(key.get())
            .ok()
            .and_then(|i| self.pages.get(i))
            .ok_or_else(|| {
                parquet::errors::ParquetError::General(format!("no spilled page {}", key.get()))
            })?;
        let mut page = vec![0; len];
        self.file.read_exact_at(&mut page, offset)?;
        Ok(Bytes::from(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_pages_come_back_whole_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SpillFile::create(dir.path()).unwrap();
        let pages = [&b"first page"[..], b"", b"third, a little longer"];
        let keys: Vec<PageKey> = pages
            .iter()
            .map(|p| store.put(Bytes::copy_from_slice(p)).unwrap())
            .collect();
        assert_eq!(&store.take(keys[2]).unwrap()[..], pages[2]);
        assert_eq!(&store.take(keys[0]).unwrap()[..], pages[0]);
        assert_eq!(&store.take(keys[1]).unwrap()[..], pages[1]);
        assert!(store.take(PageKey::new(7)).is_err());
        // The spill file is anonymous: nothing appears in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
