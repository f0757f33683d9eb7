//! `queues`: SearchQueue's filters and the derived columns.

use crate::support::{TestDb, export_ids, export_rows, run_ok};

#[tokio::test]
async fn every_queue_filter_selects_exactly_the_matching_queues() {
    let db = TestDb::with_fixture("queues.sql").await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], vec![11, 12, 26]),
        (vec!["--domain", "2"], vec![26]),
        (vec!["--q", "support*"], vec![11]),
        (vec!["--q", "*акція"], vec![26]),
        (vec!["--id", "12", "--id", "26"], vec![12, 26]),
        (vec!["--type", "0"], vec![12]),
        (vec!["--type", "1", "--type", "5"], vec![11, 26]),
        (vec!["--team", "11"], vec![11]),
        (vec!["--tag", "vip"], vec![26]),
        (vec!["--enabled"], vec![11, 26]),
        (vec!["--disabled"], vec![12]),
        (vec!["--enabled", "--domain", "1"], vec![11]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "queues", "id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
}

#[tokio::test]
async fn queue_columns_are_decoded_and_derived() {
    let db = TestDb::with_fixture("queues.sql").await;
    let rows = export_rows(&db, "queues", &[]);
    let by_id = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap();
    let support = by_id("11");
    assert_eq!(support["type"], "1");
    assert_eq!(support["type_name"], "inbound");
    assert_eq!(support["team_name"], "Підтримка");
    assert_eq!(support["calendar_name"], "Робочі години");
    assert_eq!(support["tags"], "[\"support\"]");
    assert_eq!(support["created_at"], "2025-09-01T00:00:00.000000Z"); // 1756684800000 ms
    assert_eq!(support["updated_at"], "2025-09-02T00:00:00.500000Z"); // 1756771200500 ms
    assert_eq!(support["members_total"], "0");
    let payload: serde_json::Value = serde_json::from_str(&support["payload"]).unwrap();
    assert_eq!(payload["max_wait_time"], 60);
    let callbacks = by_id("12");
    assert_eq!(callbacks["type_name"], "offline");
    assert_eq!(callbacks["enabled"], "false");
    assert_eq!(callbacks["team_id"], "");
    assert_eq!(callbacks["tags"], "");
    let dialer = by_id("26");
    assert_eq!(dialer["type_name"], "predictive");
    assert_eq!(dialer["members_total"], "3");
    assert_eq!(dialer["members_waiting"], "2");
    assert_eq!(dialer["members_finished"], "1");
}

#[tokio::test]
async fn queues_parquet_has_typed_columns() {
    use parquet::basic::{LogicalType, Type as Physical};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let db = TestDb::with_fixture("queues.sql").await;
    let dir = crate::support::out_dir();
    let path = dir.path().join("queues.parquet");
    run_ok(&[
        "queues",
        "--database-url",
        &db.url,
        "-q",
        "-o",
        crate::support::path_str(&path),
    ]);
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let col = |n: &str| {
        schema
            .columns()
            .iter()
            .find(|c| c.name() == n)
            .unwrap()
            .clone()
    };
    assert_eq!(col("type").physical_type(), Physical::INT32);
    assert_eq!(col("members_total").physical_type(), Physical::INT64);
    assert!(matches!(
        col("created_at").logical_type_ref(),
        Some(LogicalType::Timestamp(_))
    ));
    assert_eq!(
        col("variables").logical_type_ref(),
        Some(&LogicalType::Json)
    );
}
