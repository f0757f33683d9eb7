//! Comparing the two shapes of a derived dataset's query (`--shape per-row|set-wise`).

use super::{TestDb, parse_csv, run_ok};

/// A dataset's export as a header and its rows, sorted (the shapes may return rows in any
/// order).
pub fn export(
    db: &TestDb,
    dataset: &str,
    shape: &str,
    filters: &[&str],
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec![
        dataset,
        "--database-url",
        &db.url,
        "-q",
        "-f",
        "csv",
        "--shape",
        shape,
    ];
    args.extend_from_slice(filters);
    let (header, mut rows) = parse_csv(&run_ok(&args));
    rows.sort();
    (header, rows)
}

/// Exports `filters` in both shapes, asserts every cell equal, returns the rows.
pub fn same_in_both_shapes(
    db: &TestDb,
    dataset: &str,
    filters: &[&str],
) -> (Vec<String>, Vec<Vec<String>>) {
    let per_row = export(db, dataset, "per-row", filters);
    let set_wise = export(db, dataset, "set-wise", filters);
    assert_eq!(per_row.0, set_wise.0, "header, {filters:?}");
    assert_eq!(per_row.1.len(), set_wise.1.len(), "row count, {filters:?}");
    for (a, b) in per_row.1.iter().zip(&set_wise.1) {
        assert_eq!(a, b, "the shapes of {dataset} differ on a row, {filters:?}");
    }
    per_row
}

/// The cells of column `name`.
pub fn column<'r>(header: &[String], rows: &'r [Vec<String>], name: &str) -> Vec<&'r str> {
    let i = header.iter().position(|h| h == name).expect(name);
    rows.iter().map(|r| r[i].as_str()).collect()
}
