//! Merging the row streams of parallel slices, each already in the export's order, into one
//! stream in that order, holding one row per slice.

use std::cmp::Ordering;

use futures_util::future::join_all;
use futures_util::stream::{self, BoxStream};
use futures_util::{StreamExt, TryStreamExt};

use crate::error::Result;

/// The order rows are merged in.
pub type RowOrder<R> = fn(&R, &R) -> Ordering;

/// The slices being merged: each one's stream, and its next row once read.
struct Heads<'c, R> {
    streams: Vec<BoxStream<'c, Result<R>>>,
    next: Vec<Option<R>>,
    /// Whether the stream may have more rows (not ended, no error).
    open: Vec<bool>,
}

impl<R> Heads<'_, R> {
    /// Reads the next row of every open stream that has none waiting.
    async fn fill(&mut self) -> Result<()> {
        let (first, second) = {
            let mut wanted =
                (0..self.streams.len()).filter(|&i| self.open[i] && self.next[i].is_none());
            (wanted.next(), wanted.next())
        };
        match (first, second) {
            (None, _) => Ok(()),
            // After the first rows only the stream whose row was just taken wants another.
            (Some(i), None) => {
                let read = self.streams[i].try_next().await;
                self.settle(i, read)
            }
            _ => self.fill_together().await,
        }
    }

    /// Reads the next row of every stream that wants one, polled together: a slice's query is
    /// sent when its stream is first polled, so waiting for one slice's first row before
    /// asking for the next would run the queries one after another.
    async fn fill_together(&mut self) -> Result<()> {
        let (open, next) = (&self.open, &self.next);
        let reads = self
            .streams
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| open[*i] && next[*i].is_none())
            .map(|(i, s)| async move { (i, s.try_next().await) });
        for (i, read) in join_all(reads).await {
            self.settle(i, read)?;
        }
        Ok(())
    }

    /// Keeps what stream `i` gave: its next row, its end, or an error, which ends the merge.
    fn settle(&mut self, i: usize, read: Result<Option<R>>) -> Result<()> {
        match read {
            Ok(Some(row)) => self.next[i] = Some(row),
            Ok(None) => self.open[i] = false,
            Err(e) => {
                // The export fails: nothing more is read or written.
                self.open.iter_mut().for_each(|open| *open = false);
                self.next.iter_mut().for_each(|row| *row = None);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Takes the first waiting row in `order` (the lowest slice on a tie).
    fn take_first(&mut self, order: RowOrder<R>) -> Option<R> {
        let mut first: Option<usize> = None;
        for (i, row) in self.next.iter().enumerate() {
            let Some(row) = row else { continue };
            let earlier = match first.and_then(|f| self.next[f].as_ref()) {
                Some(best) => order(row, best) == Ordering::Less,
                None => true,
            };
            if earlier {
                first = Some(i);
            }
        }
        first.and_then(|i| self.next[i].take())
    }
}

/// One stream of the rows of `streams`, each in `order`, in `order`. An error ends it.
pub fn merge_in_order<'c, R: Send + 'c>(
    streams: Vec<BoxStream<'c, Result<R>>>,
    order: RowOrder<R>,
) -> BoxStream<'c, Result<R>> {
    let n = streams.len();
    let heads = Heads {
        streams,
        next: (0..n).map(|_| None).collect(),
        open: vec![true; n],
    };
    stream::unfold(heads, move |mut heads| async move {
        if let Err(e) = heads.fill().await {
            return Some((Err(e), heads));
        }
        let row = heads.take_first(order)?;
        Some((Ok(row), heads))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn slice(rows: &'static [i32]) -> BoxStream<'static, Result<i32>> {
        stream::iter(rows.iter().copied().map(Ok)).boxed()
    }

    fn merged(slices: Vec<BoxStream<'static, Result<i32>>>) -> Vec<Result<i32>> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(merge_in_order(slices, i32::cmp).collect())
    }

    #[test]
    fn merges_sorted_slices_in_order() {
        let rows = merged(vec![
            slice(&[1, 4, 4, 9]),
            slice(&[]),
            slice(&[2, 3, 4, 10, 11]),
        ]);
        let rows: Vec<i32> = rows.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(rows, [1, 2, 3, 4, 4, 4, 9, 10, 11]);
    }

    #[test]
    fn an_error_of_any_slice_ends_the_merge() {
        let failing = stream::iter(vec![
            Ok(5),
            Err(Error::Other("connection lost".into())),
            Ok(6),
        ])
        .boxed();
        let rows = merged(vec![slice(&[1, 7, 8]), failing]);
        assert_eq!(rows.len(), 3, "1, 5, then the error: {rows:?}");
        assert!(matches!(rows[2], Err(Error::Other(_))));
    }
}
