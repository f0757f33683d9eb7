//! Every `calls` filter selects exactly the right legs of tests/fixtures/calls.sql.

use std::collections::BTreeSet;

use crate::support::{TestDb, parse_csv, run_ok};

/// The `NN` of the legs the export returns.
fn legs(db: &TestDb, filters: &[&str]) -> BTreeSet<u32> {
    let mut args = vec!["calls", "--database-url", &db.url, "-q", "-f", "csv"];
    args.extend_from_slice(filters);
    let (header, rows) = parse_csv(&run_ok(&args));
    let id = header.iter().position(|h| h == "id").expect("id column");
    rows.iter()
        .map(|r| r[id].rsplit('-').next().unwrap().parse::<u32>().unwrap())
        .collect()
}

fn set(ids: &[u32]) -> BTreeSet<u32> {
    ids.iter().copied().collect()
}

const ALL: [u32; 16] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

#[tokio::test]
async fn every_filter_selects_exactly_the_matching_legs() {
    let db = TestDb::with_fixture("calls.sql").await;
    let complement =
        |ids: &[u32]| -> Vec<u32> { ALL.iter().copied().filter(|i| !ids.contains(i)).collect() };
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], ALL.to_vec()),
        // time windows: --to is exclusive; dates are local midnight in --tz
        (
            vec!["--from", "2026-09-02", "--to", "2026-09-03"],
            vec![6, 7, 8, 9, 10],
        ),
        (
            vec![
                "--from",
                "2026-09-01T13:00",
                "--to",
                "2026-09-01T13:20",
                "--tz",
                "Europe/Kyiv",
            ],
            vec![1, 2, 5],
        ),
        (
            vec![
                "--from",
                "2026-09-01T10:00:00Z",
                "--to",
                "2026-09-01T10:00:10Z",
            ],
            vec![1],
        ),
        (
            vec![
                "--stored-from",
                "2026-09-02T09:00:00Z",
                "--stored-to",
                "2026-09-02T10:00:00Z",
            ],
            vec![6],
        ),
        (
            vec!["--answered-from", "2026-09-03"],
            vec![11, 12, 13, 14, 15],
        ),
        (vec!["--domain", "2"], vec![6, 7, 8, 9, 10]),
        (
            vec!["--domain", "2", "--domain", "3"],
            vec![6, 7, 8, 9, 10, 16],
        ),
        // number: POSIX regex on search_number, else destination|from|to; leading + is literal
        (vec!["--number", "+38050"], vec![1, 2, 5, 10]),
        (vec!["--number", "+38067"], vec![3, 15]),
        (vec!["--number", "^380441"], vec![6]),
        (vec!["--number", "2233$"], vec![1, 7]),
        // q: * wildcards on destination/from/to, or the exact leg id
        (vec!["--q", "*1112233"], vec![1, 2, 5, 7]),
        (vec!["--q", "00000000-0000-0000-0000-000000000003"], vec![3]),
        // variables: jsonb containment, all pairs must match, exact string values
        (vec!["--var", "lang=uk"], vec![1, 11, 16]),
        (vec!["--var", "lang=uk", "--var", "city=Київ"], vec![1]),
        (vec!["--var", "lang="], vec![6]),
        // id filters that also look at the aggregated *_ids arrays
        (vec!["--user", "1001"], vec![1, 2, 11, 12, 14]),
        (vec!["--owner", "1001"], vec![2, 12, 14]),
        (vec!["--agent", "1002"], vec![5, 11, 13]),
        (vec!["--queue", "26"], vec![7, 8, 9]),
        (vec!["--team", "11"], vec![1, 2, 11, 12, 13]),
        (vec!["--gateway", "21"], vec![6]),
        (vec!["--gateway", "11"], vec![1, 11]),
        (vec!["--member", "7001"], vec![7]),
        (vec!["--contact", "555"], vec![6]),
        (vec!["--grantee", "77"], vec![6]),
        (
            vec![
                "--id",
                "00000000-0000-0000-0000-000000000003",
                "--id",
                "00000000-0000-0000-0000-000000000016",
            ],
            vec![3, 16],
        ),
        (
            vec!["--parent-id", "00000000-0000-0000-0000-000000000001"],
            vec![2, 5],
        ),
        // dependency chains: everything reachable through parent_id / transfer_from, not the root
        (
            vec!["--dependency-id", "00000000-0000-0000-0000-000000000011"],
            vec![12, 13, 14],
        ),
        (
            vec!["--dependency-id", "00000000-0000-0000-0000-000000000012"],
            vec![13, 14],
        ),
        (
            vec!["--top-level"],
            vec![1, 3, 4, 6, 7, 8, 9, 10, 11, 15, 16],
        ),
        // recordings of the leg or its parent, same domain, not removed
        (vec!["--has-file"], vec![1, 2, 5, 11, 12, 13]),
        (vec!["--no-file"], complement(&[1, 2, 5, 11, 12, 13])),
        (
            vec!["--cause", "ORIGINATOR_CANCEL", "--cause", "MEDIA_TIMEOUT"],
            vec![3, 10],
        ),
        // durations are computed: hangup_at − created_at
        (vec!["--min-duration", "300"], vec![1, 2, 11, 13]),
        (vec!["--max-duration", "30"], vec![3, 4, 5, 8, 9]),
        (
            vec!["--min-duration", "30", "--max-duration", "60"],
            vec![3, 7, 14, 16],
        ),
        (vec!["--min-talk", "295"], vec![1, 2, 11, 13]),
        (vec!["--max-talk", "0"], vec![3, 4, 5, 8, 9, 10]),
        (vec!["--direction", "inbound"], vec![1, 3, 4, 5, 11, 15, 16]),
        (
            vec!["--direction", "outbound"],
            vec![2, 6, 7, 8, 9, 10, 12, 13, 14],
        ),
        // missed: inbound, never bridged, not hidden, parent not bridged
        (vec!["--missed"], vec![3]),
        (vec!["--tag", "vip"], vec![1, 16]),
        (vec!["--tag", "complaint", "--tag", "x"], vec![7, 16]),
        // AMD with Webitel's aliases, on amd_result or amd_ai_result
        (vec!["--amd-result", "human"], vec![7]),
        (vec!["--amd-result", "CANCEL"], vec![8]),
        (vec!["--amd-result", "machine"], vec![9]),
        (vec!["--has-transfer"], vec![12, 13, 15]),
        (vec!["--no-transfer"], complement(&[12, 13, 15])),
        // filters AND together
        (vec!["--domain", "1", "--missed"], vec![3]),
        (vec!["--domain", "2", "--missed"], vec![]),
        (
            vec!["--top-level", "--has-file", "--var", "lang=uk"],
            vec![1, 11],
        ),
    ];
    for (filters, expected) in cases {
        assert_eq!(legs(&db, &filters), set(&expected), "filters {filters:?}");
    }
}
