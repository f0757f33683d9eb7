//! Hostile values in the data: odd Unicode (bidi overrides, joiners, line separators, BOM),
//! a megabyte-long string, deeply nested JSON and formula-looking cells come out of every
//! format exactly as the database holds them; `--excel` neutralizes the formula cells.

use std::collections::BTreeMap;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::support::{TestDb, out_dir, parse_csv, path_str, run_ok};

const HOSTILE: &str = "
    UPDATE call_center.cc_calls_history SET from_name = E'\\u202Eevil\\u202C \\u200D\\U0001F469\\u200D\\U0001F4BB \\u2028next\\r\\n\"q\",;\\t\\uFEFFend'
        WHERE id = '00000000-0000-0000-0000-000000000001';
    UPDATE call_center.cc_calls_history SET destination = repeat('Дзвінок, \"x\"', 80000)
        WHERE id = '00000000-0000-0000-0000-000000000002';
    UPDATE call_center.cc_calls_history
        SET payload = (repeat('{\"a\": [', 500) || '\"deep\"' || repeat(']}', 500))::jsonb
        WHERE id = '00000000-0000-0000-0000-000000000003';
    UPDATE call_center.cc_calls_history SET from_name = '=cmd|'' /C calc''!A0'
        WHERE id = '00000000-0000-0000-0000-000000000004';
    UPDATE call_center.cc_calls_history SET from_name = '+SUM(1,2)'
        WHERE id = '00000000-0000-0000-0000-000000000005';
    UPDATE call_center.cc_calls_history SET from_name = '@A1', from_number = '+380501112233'
        WHERE id = '00000000-0000-0000-0000-000000000006';
    UPDATE call_center.cc_calls_history SET from_name = '-2+3', from_number = '-42'
        WHERE id = '00000000-0000-0000-0000-000000000007';";

/// A leg's id and the four text columns, as the database holds them.
type LegText = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// id → (from_name, from_number, destination, variables) as the database holds them.
type Expected = BTreeMap<String, [Option<String>; 4]>;

async fn expected(db: &TestDb) -> Expected {
    let mut conn = db.connect().await;
    let rows: Vec<LegText> = sqlx::query_as(
        "SELECT id::text, from_name::text, from_number::text, destination::text, payload::text
             FROM call_center.cc_calls_history",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, a, b, c, d)| (id, [a, b, c, d]))
        .collect()
}

const COLUMNS: [&str; 4] = ["from_name", "from_number", "destination", "variables"];

#[tokio::test]
async fn hostile_values_survive_every_format() {
    let db = TestDb::with_fixture("calls.sql").await;
    db.execute(HOSTILE).await;
    let expected = expected(&db).await;
    let dir = out_dir();

    // CSV: parsed back with the csv crate; NULL and '' both read as an empty cell.
    let csv = run_ok(&["calls", "--database-url", &db.url, "-q"]);
    let (header, rows) = parse_csv(&csv);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.len(), expected.len());
    for row in &rows {
        let want = &expected[&row[at("id")]];
        for (column, value) in COLUMNS.iter().zip(want) {
            assert_eq!(
                row[at(column)],
                value.clone().unwrap_or_default(),
                "csv {column}"
            );
        }
    }

    // JSON Lines: strings are strings, variables is the JSON document itself, written as
    // PostgreSQL prints it (1,000 levels deep here: more than serde_json parses by default,
    // so that line is checked as text).
    let jsonl = run_ok(&["calls", "--database-url", &db.url, "-q", "-f", "jsonl"]);
    assert_eq!(jsonl.lines().count(), expected.len());
    for line in jsonl.lines() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(row) => {
                let want = &expected[row["id"].as_str().unwrap()];
                for (column, value) in COLUMNS.iter().zip(want).take(3) {
                    assert_eq!(row[column].as_str(), value.as_deref(), "jsonl {column}");
                }
                let variables: Option<serde_json::Value> =
                    want[3].as_deref().map(|v| serde_json::from_str(v).unwrap());
                assert_eq!(
                    row["variables"],
                    variables.unwrap_or_default(),
                    "jsonl variables"
                );
            }
            Err(e) => {
                assert!(e.to_string().contains("recursion limit"), "{e}");
                let deep = expected["00000000-0000-0000-0000-000000000003"][3]
                    .as_deref()
                    .unwrap();
                assert!(
                    line.contains(&format!("\"variables\":{deep}")),
                    "deep JSON intact"
                );
            }
        }
    }

    // Parquet.
    let file = dir.path().join("calls.parquet");
    run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "-o",
        path_str(&file),
    ]);
    let reader = SerializedFileReader::new(std::fs::File::open(&file).unwrap()).unwrap();
    for row in reader.get_row_iter(None).unwrap() {
        let cells: BTreeMap<String, Field> = row
            .unwrap()
            .get_column_iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let Field::Str(id) = &cells["id"] else {
            panic!("id")
        };
        for (column, value) in COLUMNS.iter().zip(&expected[id]) {
            let got = match &cells[*column] {
                Field::Str(s) => Some(s.clone()),
                Field::Null => None,
                other => panic!("{column}: {other:?}"),
            };
            assert_eq!(&got, value, "parquet {column}");
        }
    }
}

#[tokio::test]
async fn excel_csv_neutralizes_formulas_but_keeps_phone_numbers() {
    let db = TestDb::with_fixture("calls.sql").await;
    db.execute(HOSTILE).await;
    let text = run_ok(&["calls", "--database-url", &db.url, "-q", "--excel"]);
    assert!(text.starts_with('\u{feff}'), "a byte-order mark for Excel");
    let (header, rows) = parse_csv(text.trim_start_matches('\u{feff}'));
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let by_id: BTreeMap<&str, &Vec<String>> =
        rows.iter().map(|r| (r[at("id")].as_str(), r)).collect();
    let leg = |n: u8| by_id[format!("00000000-0000-0000-0000-0000000000{n:02}").as_str()];
    assert_eq!(leg(4)[at("from_name")], "'=cmd|' /C calc'!A0");
    assert_eq!(leg(5)[at("from_name")], "'+SUM(1,2)");
    assert_eq!(leg(6)[at("from_name")], "'@A1");
    assert_eq!(
        leg(6)[at("from_number")],
        "+380501112233",
        "a phone number stays as is"
    );
    assert_eq!(leg(7)[at("from_name")], "'-2+3");
    assert_eq!(leg(7)[at("from_number")], "-42");
}
