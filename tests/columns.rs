//! Chosen columns (`--columns`, `--exclude-columns`) and variables as columns
//! (`--variable-columns`), in every format, against the calls fixture.

use std::fs::File;

use parquet::file::reader::{FileReader, SerializedFileReader};
use webitel_export::datasets::calls::CallRow;
use webitel_export::record::Record;

use crate::support::*;

const FIRST: &str = "00000000-0000-0000-0000-000000000001";
const MISSED: &str = "00000000-0000-0000-0000-000000000003";

fn row<'a>(header: &[String], rows: &'a [Vec<String>], id: &str) -> Vec<(String, &'a str)> {
    let at = header.iter().position(|h| h == "id").expect("an id column");
    let cells = rows.iter().find(|r| r[at] == id).expect("the row");
    header
        .iter()
        .cloned()
        .zip(cells.iter().map(String::as_str))
        .collect()
}

#[tokio::test]
async fn chosen_columns_keep_their_order_and_variables_become_columns() {
    let db = TestDb::with_fixture("calls.sql").await;
    let out = run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "--columns",
        "to_number,id,var_city,from_number,duration_sec",
        "--variable-columns",
        "lang,city,note,absent",
    ]);
    let (header, rows) = parse_csv(&out);
    // var_city placed by --columns; the other variables follow in the order given.
    assert_eq!(
        header,
        [
            "to_number",
            "id",
            "var_city",
            "from_number",
            "duration_sec",
            "var_lang",
            "var_note",
            "var_absent"
        ]
    );
    let first = row(&header, &rows, FIRST);
    let value = |name: &str| first.iter().find(|(h, _)| h == name).unwrap().1;
    assert_eq!(value("from_number"), "+380501112233");
    assert_eq!(value("var_city"), "Київ");
    assert_eq!(value("var_lang"), "uk");
    assert_eq!(value("var_note"), "line1\nline2, \"quoted\"");
    assert_eq!(value("var_absent"), "");
    assert_eq!(value("duration_sec"), "322");

    // The same choice in JSON Lines: a variable a call lacks is null, not "".
    let jsonl = run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "-f",
        "jsonl",
        "--id",
        MISSED,
        "--columns",
        "id",
        "--variable-columns",
        "lang,city",
    ]);
    let line: serde_json::Value = serde_json::from_str(jsonl.trim()).unwrap();
    assert_eq!(
        line,
        serde_json::json!({"id": MISSED, "var_lang": "en", "var_city": null})
    );
}

#[tokio::test]
async fn excluded_columns_leave_the_rest_in_the_dataset_order() {
    let db = TestDb::with_fixture("calls.sql").await;
    let out = run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "--exclude-columns",
        "variables,tags,from_name",
    ]);
    let (header, rows) = parse_csv(&out);
    let expected: Vec<&str> = CallRow::COLUMNS
        .iter()
        .map(|c| c.name)
        .filter(|n| !["variables", "tags", "from_name"].contains(n))
        .collect();
    assert_eq!(header, expected);
    let full = export_rows(&db, "calls", &[]);
    assert_eq!(rows.len(), full.len());
}

#[tokio::test]
async fn parquet_carries_the_chosen_columns_with_their_types() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let path = dir.path().join("calls.parquet");
    run_ok(&[
        "calls",
        "--database-url",
        &db.url,
        "-q",
        "-o",
        path_str(&path),
        "--columns",
        "id,created_at,bill_sec",
        "--variable-columns",
        "Ціль міста,city",
    ]);
    let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let names: Vec<&str> = schema
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name())
        .collect();
    // A space is spelled `_` (Spark and Delta refuse it); Cyrillic letters stay.
    assert_eq!(
        names,
        ["id", "created_at", "bill_sec", "var_Ціль_міста", "var_city"]
    );
    // The data dictionary travels in the file: one key per column (DuckDB's
    // parquet_kv_metadata), and in the Arrow schema's field metadata (pyarrow, Polars).
    let kv: std::collections::HashMap<&str, &str> = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .iter()
        .map(|kv| (kv.key.as_str(), kv.value.as_deref().unwrap_or("")))
        .collect();
    let bill = CallRow::COLUMNS
        .iter()
        .find(|c| c.name == "bill_sec")
        .unwrap();
    assert_eq!(kv["description:bill_sec"], bill.description());
    assert!(kv["description:var_city"].contains("`city`"), "{kv:?}");
    assert!(
        !kv.contains_key("description:from_number"),
        "only the chosen columns"
    );
    let arrow = parquet::arrow::parquet_to_arrow_schema(
        schema.as_ref(),
        reader.metadata().file_metadata().key_value_metadata(),
    )
    .unwrap();
    assert_eq!(
        arrow.field_with_name("bill_sec").unwrap().metadata()["description"],
        bill.description()
    );
    let types: Vec<_> = schema.columns().iter().map(|c| c.physical_type()).collect();
    use parquet::basic::Type;
    assert_eq!(
        types,
        [
            Type::BYTE_ARRAY,
            Type::INT64,
            Type::INT64,
            Type::BYTE_ARRAY,
            Type::BYTE_ARRAY
        ]
    );
}

#[tokio::test]
async fn reports_take_chosen_columns_too() {
    let db = TestDb::with_fixture("reports.sql").await;
    let out = run_ok(&[
        "report",
        "agent-activity",
        "--database-url",
        &db.url,
        "-q",
        "--from",
        "2026-09-30",
        "--to",
        "2026-10-02",
        "--columns",
        "agent_name,bucket_label",
    ]);
    let (header, rows) = parse_csv(&out);
    assert_eq!(header, ["agent_name", "bucket_label"]);
    assert!(!rows.is_empty());
}

#[tokio::test]
async fn an_unknown_column_is_a_usage_error_naming_the_columns() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let dest = dir.path().join("calls.csv");
    for (flag, value) in [
        ("--columns", "id,no_such"),
        ("--exclude-columns", "no_such"),
    ] {
        let out = run(&[
            "calls",
            "--database-url",
            &db.url,
            "-o",
            path_str(&dest),
            flag,
            value,
        ]);
        let line = assert_fails(&out, 2);
        assert!(line.contains("\"no_such\""), "{line}");
        assert!(
            line.contains("from_number, from_name"),
            "lists the columns: {line}"
        );
        assert!(!dest.exists(), "nothing written");
    }
    let agents = run(&[
        "agents",
        "--database-url",
        &db.url,
        "--variable-columns",
        "city",
    ]);
    let line = assert_fails(&agents, 2);
    assert!(line.contains("no variables column"), "{line}");
    let none_left = run(&[
        "queues",
        "--database-url",
        &db.url,
        "--columns",
        "id",
        "--exclude-columns",
        "id",
    ]);
    assert_fails(&none_left, 2);
}

#[tokio::test]
async fn a_nightly_job_writes_its_chosen_columns_and_keeps_its_delta_table_to_them() {
    let db = TestDb::with_fixture("calls.sql").await;
    let dir = out_dir();
    let root = dir.path().join("lake");
    let config = dir.path().join("run.toml");
    let write_config = |columns: &str| {
        std::fs::write(
            &config,
            format!(
                "root = {root:?}\n\
                 [[jobs]]\ndataset = \"calls\"\nformat = \"delta\"\ncolumns = [{columns}]\n\
                 variable_columns = [\"city\"]\n\
                 [[jobs]]\nname = \"calls-files\"\ndataset = \"calls\"\n\
                 exclude_columns = [\"variables\", \"tags\"]\n"
            ),
        )
        .unwrap();
    };
    write_config("\"id\", \"created_at\", \"bill_sec\"");
    let args = [
        "run",
        "--config",
        path_str(&config),
        "--database-url",
        &db.url,
        "-q",
    ];
    run_ok(&args);

    // The Delta table's schema: the chosen columns, the variable column, the partition; each
    // with its description as the column comment.
    let log =
        std::fs::read_to_string(root.join("calls/_delta_log/00000000000000000000.json")).unwrap();
    let meta = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|a| a.get("metaData").is_some())
        .unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(meta["metaData"]["schemaString"].as_str().unwrap()).unwrap();
    let names: Vec<&str> = schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["id", "created_at", "bill_sec", "var_city", "date"]);
    assert!(
        schema["fields"][3]["metadata"]["comment"]
            .as_str()
            .unwrap()
            .contains("`city`")
    );

    // The Hive job: every column but the excluded ones.
    let day = root.join("calls-files/date=2026-09-01");
    let part = files_in(&day)
        .into_iter()
        .find(|f| f.starts_with("part-"))
        .unwrap();
    let reader = SerializedFileReader::new(File::open(day.join(part)).unwrap()).unwrap();
    let fields = reader.metadata().file_metadata().schema_descr_ptr();
    let written: Vec<&str> = fields
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name())
        .collect();
    assert_eq!(written.len(), CallRow::COLUMNS.len() - 2);
    assert!(!written.contains(&"variables") && !written.contains(&"tags"));

    // Other columns next night: the table is not appended to with files of another shape.
    write_config("\"id\", \"created_at\"");
    let out = run(&args);
    let line = assert_fails(&out, 2);
    assert!(line.contains("other columns"), "{line}");
}

#[tokio::test]
async fn conversations_take_their_root_legs_variables() {
    let db = TestDb::with_fixture("calls.sql").await;
    for shape in ["per-row", "set-wise"] {
        let out = run_ok(&[
            "conversations",
            "--database-url",
            &db.url,
            "-q",
            "--shape",
            shape,
            "--columns",
            "conversation_id,variables",
            "--variable-columns",
            "city,lang",
        ]);
        let (header, rows) = parse_csv(&out);
        assert_eq!(
            header,
            ["conversation_id", "variables", "var_city", "var_lang"]
        );
        let first = rows
            .iter()
            .find(|r| r[0] == FIRST)
            .expect("the first call's conversation");
        let variables: serde_json::Value = serde_json::from_str(&first[1]).unwrap();
        assert_eq!(variables["city"], "Київ", "{shape}");
        assert_eq!(first[2..], ["Київ", "uk"], "{shape}");
        let missed = rows.iter().find(|r| r[0] == MISSED).unwrap();
        assert_eq!(missed[2..], ["", "en"], "{shape}");
    }
}
