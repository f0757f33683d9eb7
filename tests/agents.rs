//! `agents`: filters and derived columns.

use crate::support::{TestDb, export_ids, export_rows};

#[tokio::test]
async fn every_agent_filter_selects_exactly_the_matching_agents() {
    let db = TestDb::with_fixture("agents.sql").await;
    let cases: Vec<(Vec<&str>, Vec<u32>)> = vec![
        (vec![], vec![1, 2, 3, 4]),
        (vec!["--domain", "2"], vec![4]),
        (vec!["--q", "*Шевченко"], vec![1]),
        (vec!["--q", "iv*"], vec![2]), // no name: matched on username
        (vec!["--id", "3"], vec![3]),
        (vec!["--team", "11"], vec![1, 2]),
        (
            vec!["--status", "pause", "--status", "break-out"],
            vec![2, 4],
        ),
        (vec!["--supervisor"], vec![3]),
        (vec!["--team", "11", "--status", "online"], vec![1]),
    ];
    for (filters, expected) in cases {
        assert_eq!(
            export_ids(&db, "agents", "id", &filters),
            expected,
            "filters {filters:?}"
        );
    }
}

#[tokio::test]
async fn agent_columns_follow_webitels_display_rules() {
    let db = TestDb::with_fixture("agents.sql").await;
    let rows = export_rows(&db, "agents", &[]);
    let agent = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap();
    let olena = agent("1");
    assert_eq!(olena["name"], "Олена Шевченко");
    assert_eq!(olena["team_name"], "Підтримка");
    assert_eq!(olena["region_name"], "Київ");
    assert_eq!(olena["supervisor_ids"], "[3]");
    assert_eq!(olena["allow_channels"], "[\"call\",\"chat\"]");
    assert_eq!(olena["last_state_change"], "2026-10-01T08:00:00.000000Z");
    let skills: serde_json::Value = serde_json::from_str(&olena["skills"]).unwrap();
    assert_eq!(
        skills,
        serde_json::json!([
            {"skill_id": 2, "skill": "English", "capacity": 60, "enabled": false},
            {"skill_id": 1, "skill": "Українська", "capacity": 100, "enabled": true}
        ])
    );
    let ivan = agent("2");
    assert_eq!(ivan["name"], "ivan", "no name: the username");
    assert_eq!(ivan["pause_cause"], "Обід");
    assert_eq!(ivan["region_id"], "");
    let sue = agent("3");
    assert_eq!(sue["supervisor"], "true");
    assert_eq!(sue["skills"], "");
    assert_eq!(sue["team_name"], "");
}
