//! `--profile`: duckdb stores call ids as the Parquet UUID type, plain and spark as strings;
//! excel writes CSV with a BOM, `;` and numbers Excel would mangle kept as text.

use parquet::basic::LogicalType;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::support::{TestDb, assert_fails, out_dir, path_str, run, run_ok};

fn id_column(file: &std::path::Path) -> (Option<LogicalType>, Vec<Field>) {
    let reader = SerializedFileReader::new(std::fs::File::open(file).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let id = schema.columns().iter().find(|c| c.name() == "id").unwrap();
    let values = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            r.unwrap()
                .get_column_iter()
                .find(|(n, _)| *n == "id")
                .unwrap()
                .1
                .clone()
        })
        .collect();
    (id.logical_type_ref().cloned(), values)
}

#[tokio::test]
async fn duckdb_profile_writes_uuid_ids_and_plain_and_spark_write_strings() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let export = |profile: &str| {
        let file = dir.path().join(format!("{profile}.parquet"));
        run_ok(&[
            "calls",
            "--database-url",
            &db.url,
            "-q",
            "--profile",
            profile,
            "-o",
            path_str(&file),
        ]);
        id_column(&file)
    };
    let (plain_type, plain) = export("plain");
    assert_eq!(plain_type, Some(LogicalType::String));
    assert_eq!(export("spark"), (plain_type, plain.clone()));
    let (duck_type, duck) = export("duckdb");
    assert_eq!(duck_type, Some(LogicalType::Uuid));
    assert_eq!(duck.len(), plain.len());
    for (text, bytes) in plain.iter().zip(&duck) {
        let (Field::Str(text), Field::Bytes(bytes)) = (text, bytes) else {
            panic!("{text:?} / {bytes:?}");
        };
        assert_eq!(
            uuid::Uuid::from_slice(bytes.data()).unwrap().to_string(),
            *text
        );
    }
}

#[tokio::test]
async fn excel_profile_writes_bom_semicolons_and_text_numbers() {
    let db = TestDb::with_fixture("calls.sql").await;
    let text = run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "--profile",
        "excel",
    ]);
    let body = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(body.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(header.len() > 40, "split on ';'");
    let numbers: Vec<&str> = rows.iter().map(|r| &r[at("from_number")]).collect();
    assert!(numbers.contains(&"=\"+380501112233\""), "{numbers:?}");
    // Plain numbers stay numbers.
    assert!(rows.iter().all(|r| !r[at("talk_sec")].starts_with('=')));

    let out = run(&[
        "calls",
        "--database-url",
        &db.url,
        "--profile",
        "excel",
        "-f",
        "parquet",
    ]);
    let message = assert_fails(&out, 2);
    assert!(message.contains("--profile excel"), "{message}");
}
