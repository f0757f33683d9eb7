//! What an export writes of each row: the columns chosen, in the order chosen (`--columns`,
//! `--exclude-columns`), call variables as columns of their own (`--variable-columns`), and
//! personal data replaced by keyed pseudonyms or dropped (`--pseudonymize`).
//!
//! A [`View`] is resolved against a dataset's columns before anything is read, so an unknown
//! column is a usage error, and every sink (CSV, JSON Lines, Parquet, Delta) writes the same
//! view of a row. Without any of these flags the view is the dataset's own columns and rows
//! pass through untouched.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::pseudonym::{Personal, PseudonymKey};
use crate::record::{Cell, Column, Kind, Record};

/// The most columns a dataset has (a test checks every dataset against it): a row's cells are
/// gathered on the stack before they are put in the view's order.
pub const MAX_COLUMNS: usize = 64;

/// Prefix of the columns made of variables, so they cannot clash with a built-in column.
pub const VARIABLE_PREFIX: &str = "var_";

/// What the user asked to see of a dataset, before it is checked against its columns.
#[derive(Clone, Debug, Default)]
pub struct ViewRequest {
    /// Only these columns, in this order (empty: all).
    pub columns: Vec<String>,
    pub exclude: Vec<String>,
    /// Variable names to add as `var_<name>` columns.
    pub variables: Vec<String>,
    pub pseudonymize: Vec<Personal>,
    /// Present when `pseudonymize` is not empty.
    pub key: Option<PseudonymKey>,
}

impl ViewRequest {
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
            && self.exclude.is_empty()
            && self.variables.is_empty()
            && self.pseudonymize.is_empty()
    }
}

/// The columns an export writes and where each one's value comes from.
#[derive(Debug)]
pub struct View {
    /// The dataset's own columns (a view only applies to rows of that dataset).
    base: &'static [Column],
    columns: Vec<Column>,
    sources: Vec<Source>,
    /// Index of the dataset's `variables` column, when variables are columns.
    variables_at: Option<usize>,
    key: Option<PseudonymKey>,
    /// Rows pass through as they are.
    identity: bool,
}

#[derive(Debug)]
enum Source {
    Cell { index: usize, treat: Treat },
    Variable { name: String, tokenize: bool },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Treat {
    Keep,
    /// The whole value replaced by its token.
    Token(Personal),
    /// A JSON document whose number-like strings (`numbers`) and `name` members (`names`) are
    /// replaced by their tokens.
    InJson {
        numbers: bool,
        names: bool,
    },
    Drop,
}

impl View {
    /// Every column of the dataset, untouched.
    pub fn identity(base: &'static [Column]) -> View {
        View {
            base,
            columns: base.to_vec(),
            sources: (0..base.len())
                .map(|index| Source::Cell {
                    index,
                    treat: Treat::Keep,
                })
                .collect(),
            variables_at: None,
            key: None,
            identity: true,
        }
    }

    /// Checks `request` against the columns of `dataset`.
    pub fn resolve(dataset: &str, base: &'static [Column], request: &ViewRequest) -> Result<View> {
        if base.len() > MAX_COLUMNS {
            return Err(Error::Other(format!(
                "{dataset} has more than {MAX_COLUMNS} columns"
            )));
        }
        if request.is_empty() {
            return Ok(View::identity(base));
        }
        if !request.pseudonymize.is_empty() && request.key.is_none() {
            return Err(Error::input(
                "--pseudonymize needs --pseudonym-key-file (pseudonym_key_file in a run config)",
            ));
        }
        let variables = variable_columns(dataset, base, &request.variables)?;
        let chosen = choose(dataset, base, &variables, request)?;
        let tokenize_numbers = request.pseudonymize.contains(&Personal::Numbers);
        let mut view = View {
            base,
            columns: Vec::with_capacity(chosen.len()),
            sources: Vec::with_capacity(chosen.len()),
            variables_at: None,
            key: request.key.clone(),
            identity: false,
        };
        for column in chosen {
            match column {
                Chosen::Base(index) => {
                    let mut out = base[index];
                    let treat = treatment(&out, &request.pseudonymize);
                    if treat == Treat::Drop {
                        out.nullable = true;
                    }
                    view.columns.push(out);
                    view.sources.push(Source::Cell { index, treat });
                }
                Chosen::Variable(v) => {
                    let (out, name) = &variables[v];
                    view.variables_at = base.iter().position(|c| c.name == "variables");
                    view.columns.push(*out);
                    view.sources.push(Source::Variable {
                        name: name.clone(),
                        tokenize: tokenize_numbers,
                    });
                }
            }
        }
        view.identity = view.variables_at.is_none()
            && view.columns.len() == base.len()
            && view.sources.iter().enumerate().all(
                |(i, s)| matches!(s, Source::Cell { index, treat: Treat::Keep } if *index == i),
            );
        Ok(view)
    }

    /// The columns written, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Whether writing this view reads the dataset's column `name` (written itself, or the
    /// `variables` that variable columns come from).
    pub fn reads(&self, name: &str) -> bool {
        self.sources.iter().any(|s| match s {
            Source::Cell { index, treat } => {
                self.base[*index].name == name && *treat != Treat::Drop
            }
            Source::Variable { .. } => name == "variables",
        })
    }

    /// Whether this view was made for rows of `R` (the same columns; a constant slice has no
    /// fixed address to compare).
    pub fn fits<R: Record>(&self) -> bool {
        self.base.len() == R::COLUMNS.len()
            && self
                .base
                .iter()
                .zip(R::COLUMNS)
                .all(|(a, b)| a.name == b.name && a.kind == b.kind)
    }

    /// Calls `f` with each cell of the view of `row`, in the view's order.
    pub fn cells<R: Record>(&self, row: &R, mut f: impl FnMut(Cell<'_>)) {
        if self.identity {
            row.cells(f);
            return;
        }
        let mut all = [Cell::Null; MAX_COLUMNS];
        let mut n = 0;
        row.cells(|cell| {
            all[n] = cell;
            n += 1;
        });
        let variables = self.variables_at.and_then(|i| parse_object(all[i]));
        for source in &self.sources {
            match *source {
                Source::Cell { index, treat } => self.treated(all[index], treat, &mut f),
                Source::Variable { ref name, tokenize } => {
                    let value = variables.as_ref().and_then(|vars| vars.get(name.as_str()));
                    self.variable(value, tokenize, &mut f);
                }
            }
        }
    }

    fn treated(&self, cell: Cell<'_>, treat: Treat, f: &mut impl FnMut(Cell<'_>)) {
        let key = self.key.as_ref();
        match (treat, cell, key) {
            (Treat::Keep, cell, _) => f(cell),
            (Treat::Drop, _, _) => f(Cell::Null),
            (Treat::Token(class), Cell::Text(s), Some(key)) if !s.is_empty() => {
                f(Cell::Text(&key.token(class, s)));
            }
            (Treat::InJson { numbers, names }, Cell::Text(s), Some(key)) => {
                f(Cell::Text(&key.tokenize_json(s, numbers, names)));
            }
            (Treat::Token(class), Cell::TextList(items), Some(key)) => {
                let tokens: Vec<String> = items.iter().map(|s| key.token(class, s)).collect();
                f(Cell::TextList(&tokens));
            }
            // NULL and empty strings carry nothing to hide.
            (_, cell, _) => f(cell),
        }
    }

    fn variable(&self, value: Option<&Value>, tokenize: bool, f: &mut impl FnMut(Cell<'_>)) {
        let text = match value {
            None | Some(Value::Null) => return f(Cell::Null),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        match &self.key {
            Some(key) if tokenize && crate::pseudonym::looks_like_number(&text) => {
                f(Cell::Text(&key.token(Personal::Numbers, &text)));
            }
            _ => f(Cell::Text(&text)),
        }
    }
}

/// The view's columns, in order: `--columns` (or every column, then the variable columns),
/// less `--exclude-columns`.
fn choose(
    dataset: &str,
    base: &[Column],
    variables: &[(Column, String)],
    request: &ViewRequest,
) -> Result<Vec<Chosen>> {
    let available = |name: &str| {
        base.iter()
            .position(|c| c.name == name)
            .map(Chosen::Base)
            .or_else(|| {
                variables
                    .iter()
                    .position(|v| v.0.name == name)
                    .map(Chosen::Variable)
            })
    };
    let unknown = |name: &str| {
        let mut names: Vec<&str> = base.iter().map(|c| c.name).collect();
        names.extend(variables.iter().map(|v| v.0.name));
        Error::input(format!(
            "{dataset} has no column {name:?}; its columns: {}",
            names.join(", ")
        ))
    };
    let mut chosen = Vec::new();
    if request.columns.is_empty() {
        chosen.extend((0..base.len()).map(Chosen::Base));
        chosen.extend((0..variables.len()).map(Chosen::Variable));
    } else {
        for name in &request.columns {
            let column = available(name).ok_or_else(|| unknown(name))?;
            if chosen.contains(&column) {
                return Err(Error::input(format!("--columns names {name:?} twice")));
            }
            chosen.push(column);
        }
        // Variables asked for but not placed by --columns go last.
        for v in 0..variables.len() {
            if !chosen.contains(&Chosen::Variable(v)) {
                chosen.push(Chosen::Variable(v));
            }
        }
    }
    for name in &request.exclude {
        let column = available(name).ok_or_else(|| unknown(name))?;
        chosen.retain(|c| *c != column);
    }
    if chosen.is_empty() {
        return Err(Error::input(format!(
            "no column of {dataset} is left to export"
        )));
    }
    Ok(chosen)
}

/// A column of the view: one of the dataset's, or the n-th variable column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chosen {
    Base(usize),
    Variable(usize),
}

/// How a column is written under the classes being pseudonymized. In a JSON document of
/// numbers (communications) or a free-form one (variables, form fields) the numbers and the
/// `name` members are tokenized; a free-form one is text, dropped whole under `text`.
fn treatment(column: &Column, classes: &[Personal]) -> Treat {
    let on = |class| classes.contains(&class);
    let (numbers, names) = (on(Personal::Numbers), on(Personal::Names));
    match (column.personal, column.kind) {
        (Some(Personal::Text), _) if on(Personal::Text) => Treat::Drop,
        (Some(Personal::Text | Personal::Numbers), Kind::Json) if numbers || names => {
            Treat::InJson { numbers, names }
        }
        (Some(class @ (Personal::Numbers | Personal::Names)), _) if on(class) => {
            Treat::Token(class)
        }
        _ => Treat::Keep,
    }
}

/// The `var_<name>` columns of `names`, each with the variable it reads.
fn variable_columns(
    dataset: &str,
    base: &'static [Column],
    names: &[String],
) -> Result<Vec<(Column, String)>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    if !base
        .iter()
        .any(|c| c.name == "variables" && c.kind == Kind::Json)
    {
        return Err(Error::input(format!(
            "{dataset} has no variables column to take --variable-columns from"
        )));
    }
    let mut columns: Vec<(Column, String)> = Vec::new();
    for name in names {
        if name.is_empty() {
            return Err(Error::input("--variable-columns names an empty variable"));
        }
        let column_name = variable_column_name(name);
        if columns.iter().any(|(c, _)| c.name == column_name) {
            return Err(Error::input(format!(
                "--variable-columns: {name:?} gives the column {column_name:?} twice"
            )));
        }
        columns.push((
            Column {
                // A process resolves a handful of views, each with a few variables: their
                // names live as long as the program, like the dataset's own.
                name: Box::leak(column_name.into_boxed_str()),
                kind: Kind::Text,
                nullable: true,
                doc: Box::leak(
                    format!(
                        "The variable `{name}` (from the row's `variables`), as text; NULL where the \
                         row has none.\n"
                    )
                    .into_boxed_str(),
                ),
                personal: None,
                since: None,
            },
            name.clone(),
        ));
    }
    Ok(columns)
}

/// `var_` and the variable's name, with the characters Spark and Delta Lake refuse in a column
/// name (space, `,;{}()=`, tab, newline) replaced by `_`; letters of any script are kept.
pub fn variable_column_name(variable: &str) -> String {
    let spelled: String = variable
        .chars()
        .map(|c| if " ,;{}()=\t\n\r".contains(c) { '_' } else { c })
        .collect();
    format!("{VARIABLE_PREFIX}{spelled}")
}

/// A JSON object's members, from a `variables` cell.
fn parse_object(cell: Cell<'_>) -> Option<serde_json::Map<String, Value>> {
    match cell {
        Cell::Text(s) => serde_json::from_str(s).ok(),
        _ => None,
    }
}

/// The view in the shape sinks share it.
pub type SharedView = Arc<View>;

/// The untouched view of rows of `R`.
pub fn identity_of<R: Record>() -> SharedView {
    Arc::new(View::identity(R::COLUMNS))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::record! {
        /// Test row.
        pub struct Leg {
            /// Id.
            id: i64 => Int64,
            /// Number.
            number: Option<String> => Text as Numbers,
            /// Note.
            note: Option<String> => Text as Text,
            /// Variables.
            variables: Option<String> => Json as Text,
        }
    }

    fn leg() -> Leg {
        Leg {
            id: 7,
            number: Some("+380 67 123 45 67".into()),
            note: Some("call back".into()),
            variables: Some(r#"{"city": "Київ", "phone": "380671234567"}"#.into()),
        }
    }

    fn cells(view: &View, row: &Leg) -> Vec<String> {
        let mut out = Vec::new();
        view.cells(row, |c| out.push(format!("{c:?}")));
        out
    }

    fn names(strings: &[&str]) -> Vec<String> {
        strings.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn no_request_is_the_identity() {
        let view = View::resolve("legs", Leg::COLUMNS, &ViewRequest::default()).unwrap();
        assert!(view.identity);
        let same_order = ViewRequest {
            columns: names(&["id", "number", "note", "variables"]),
            ..ViewRequest::default()
        };
        assert!(
            View::resolve("legs", Leg::COLUMNS, &same_order)
                .unwrap()
                .identity
        );
    }

    #[test]
    fn columns_in_the_order_given_then_the_variables() {
        let request = ViewRequest {
            columns: names(&["note", "id"]),
            variables: names(&["city", "due date"]),
            ..ViewRequest::default()
        };
        let view = View::resolve("legs", Leg::COLUMNS, &request).unwrap();
        let out: Vec<&str> = view.columns().iter().map(|c| c.name).collect();
        assert_eq!(out, ["note", "id", "var_city", "var_due_date"]);
        assert_eq!(
            cells(&view, &leg()),
            [
                r#"Text("call back")"#,
                "Int64(7)",
                r#"Text("Київ")"#,
                "Null"
            ]
        );
        assert!(view.reads("variables") && view.reads("note") && !view.reads("number"));
    }

    #[test]
    fn classes_token_numbers_and_drop_text() {
        let key = PseudonymKey::from_bytes(&[1; 32]).unwrap();
        let token = key.token(Personal::Numbers, "380671234567");
        let request = ViewRequest {
            pseudonymize: vec![Personal::Numbers, Personal::Text],
            key: Some(key),
            variables: names(&["phone"]),
            ..ViewRequest::default()
        };
        let view = View::resolve("legs", Leg::COLUMNS, &request).unwrap();
        let out = cells(&view, &leg());
        assert_eq!(
            out[1],
            format!("Text({token:?})"),
            "one token for both spellings"
        );
        assert_eq!(out[2], "Null", "text dropped");
        assert_eq!(out[3], "Null", "free-form variables dropped under text");
        assert_eq!(
            out[4],
            format!("Text({token:?})"),
            "a variable column keeps its token"
        );
        assert!(view.columns()[2].nullable);
        assert!(!view.reads("note"));
    }

    #[test]
    fn bad_requests_name_the_problem() {
        let unknown = ViewRequest {
            columns: names(&["id", "nope"]),
            ..ViewRequest::default()
        };
        let e = View::resolve("legs", Leg::COLUMNS, &unknown).unwrap_err();
        assert!(
            e.one_line()
                .contains("its columns: id, number, note, variables")
        );
        let nothing = ViewRequest {
            exclude: names(&["id", "number", "note", "variables"]),
            ..ViewRequest::default()
        };
        assert!(View::resolve("legs", Leg::COLUMNS, &nothing).is_err());
        let clash = ViewRequest {
            variables: names(&["a b", "a_b"]),
            ..ViewRequest::default()
        };
        assert!(View::resolve("legs", Leg::COLUMNS, &clash).is_err());
        let keyless = ViewRequest {
            pseudonymize: vec![Personal::Names],
            ..ViewRequest::default()
        };
        assert!(View::resolve("legs", Leg::COLUMNS, &keyless).is_err());
    }
}
