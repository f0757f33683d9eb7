//! Every registered dataset: its Parquet file has the declared physical/logical types and
//! nullability, its CSV header is the column list, and an empty result is a valid file.

use std::fs::File;

use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use webitel_export::record::{Column, Kind};
use webitel_export::registry::{DATASETS, DatasetInfo, REPORTS};

use crate::support::{TestDb, out_dir, path_str, run_ok};

fn physical(kind: Kind) -> Physical {
    match kind {
        Kind::Text | Kind::Uuid | Kind::Json | Kind::TextList => Physical::BYTE_ARRAY,
        Kind::Int32 | Kind::Int32List => Physical::INT32,
        Kind::Int64 | Kind::Int64List | Kind::Timestamp => Physical::INT64,
        Kind::Bool => Physical::BOOLEAN,
        Kind::Float64 => Physical::DOUBLE,
    }
}

/// What is checked: a dataset, or a report with its window arguments.
pub struct Exported<'a> {
    pub name: &'a str,
    pub command: Vec<&'a str>,
    pub columns: &'a [Column],
}

impl<'a> Exported<'a> {
    pub fn dataset(d: &'a DatasetInfo) -> Self {
        Exported {
            name: d.name,
            command: vec![d.name],
            columns: d.columns,
        }
    }

    pub fn report(r: &'a DatasetInfo) -> Self {
        Exported {
            name: r.name,
            // The demo's thirty days of activity.
            command: vec![
                "report",
                r.name,
                "--from",
                "2026-09-01",
                "--to",
                "2026-10-01",
            ],
            columns: r.columns,
        }
    }
}

/// Every dataset and report of the registry, with the arguments that export it.
pub fn every_export() -> impl Iterator<Item = Exported<'static>> {
    DATASETS
        .iter()
        .map(Exported::dataset)
        .chain(REPORTS.iter().map(Exported::report))
}

fn check_dataset(db: &TestDb, dataset: &Exported, expect_rows: bool) {
    let dir = out_dir();
    let parquet = dir.path().join("out.parquet");
    let csv = dir.path().join("out.csv");
    for path in [&parquet, &csv] {
        let mut args = dataset.command.clone();
        args.extend_from_slice(&["--database-url", &db.url, "-q", "-o", path_str(path)]);
        run_ok(&args);
    }
    let header = std::fs::read_to_string(&csv).unwrap();
    let names: Vec<&str> = dataset.columns.iter().map(|c| c.name).collect();
    assert_eq!(
        header.lines().next().unwrap(),
        names.join(","),
        "{} CSV header",
        dataset.name
    );

    let reader = SerializedFileReader::new(File::open(&parquet).unwrap()).unwrap();
    let rows = reader.metadata().file_metadata().num_rows();
    assert_eq!(rows > 0, expect_rows, "{}: {rows} rows", dataset.name);
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let fields = schema.root_schema().get_fields();
    assert_eq!(fields.len(), dataset.columns.len(), "{}", dataset.name);
    for (field, column) in fields.iter().zip(dataset.columns) {
        let what = format!("{}.{}", dataset.name, column.name);
        assert_eq!(field.name(), column.name, "{what}");
        let repetition = if column.nullable {
            Repetition::OPTIONAL
        } else {
            Repetition::REQUIRED
        };
        assert_eq!(
            field.get_basic_info().repetition(),
            repetition,
            "{what} nullability"
        );
        let leaf = schema
            .columns()
            .iter()
            .find(|c| c.path().parts()[0] == column.name)
            .unwrap_or_else(|| panic!("{what}: no leaf column"));
        assert_eq!(
            leaf.physical_type(),
            physical(column.kind),
            "{what} physical type"
        );
        let logical = match column.kind {
            Kind::Text | Kind::Uuid => Some(LogicalType::String),
            Kind::Json => Some(LogicalType::Json),
            Kind::Timestamp => Some(LogicalType::Timestamp(parquet::basic::TimestampType {
                is_adjusted_to_u_t_c: true,
                unit: TimeUnit::MICROS,
            })),
            _ => None,
        };
        if let Some(logical) = logical {
            assert_eq!(
                leaf.logical_type_ref(),
                Some(&logical),
                "{what} logical type"
            );
        }
        if matches!(
            column.kind,
            Kind::Int32List | Kind::Int64List | Kind::TextList
        ) {
            assert_eq!(
                field.get_basic_info().logical_type_ref(),
                Some(&LogicalType::List),
                "{what} LIST"
            );
        }
    }
}

#[tokio::test]
async fn every_dataset_and_report_has_its_declared_types_and_exports_empty_results_as_valid_files()
{
    let (seeded, empty) = tokio::join!(TestDb::seeded(2000, 4), TestDb::new());
    for dataset in every_export() {
        check_dataset(&seeded, &dataset, true);
        check_dataset(&empty, &dataset, false);
    }
}

/// CI runs the suite once per PostgreSQL major version and says which through
/// `WEBITEL_TEST_EXPECT_PG`; this proves the suite really ran on that server.
#[tokio::test]
async fn the_suite_runs_on_the_expected_postgresql_version() {
    let db = TestDb::new().await;
    let mut conn = db.connect().await;
    let version: String = sqlx::query_scalar("SELECT current_setting('server_version_num')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    eprintln!("PostgreSQL server_version_num {version}");
    if let Ok(expected) = std::env::var("WEBITEL_TEST_EXPECT_PG") {
        assert_eq!(
            &version[..version.len() - 4],
            expected,
            "server_version_num {version}"
        );
    }
}

/// Each test's database goes with it: a suite run against a shared server leaves none behind.
#[tokio::test]
async fn a_test_database_is_dropped_with_its_test() {
    let (db, observer) = tokio::join!(TestDb::new(), TestDb::new());
    let name = db.name.clone();
    let mut conn = observer.connect().await;
    // An open connection does not keep it: the drop closes it.
    let mut held = db.connect().await;
    let exists = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)";
    let before: bool = sqlx::query_scalar(exists)
        .bind(&name)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(before);
    drop(db);
    let after: bool = sqlx::query_scalar(exists)
        .bind(&name)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(!after, "{name} is still there");
    assert!(sqlx::query("SELECT 1").execute(&mut held).await.is_err());
}
