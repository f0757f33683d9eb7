//! A Webitel release, as a schema level. Shared with build.rs, so it uses only `std`.

use std::fmt;
use std::str::FromStr;

/// A Webitel release, `vYY.MM`, ordered by date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level {
    year: u8,
    month: u8,
}

/// The oldest schema the tool reads: the v22.05 baseline of `migrations-test/`.
pub const BASELINE: Level = Level { year: 22, month: 5 };

impl FromStr for Level {
    type Err = String;

    /// `v22.05` (as in the markers) or `v22_05` (as in file names).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("'{s}' is not a Webitel release like v22.05");
        let digits = s.strip_prefix('v').ok_or_else(bad)?;
        let (year, month) = digits.split_once(['.', '_']).ok_or_else(bad)?;
        let year: u8 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        if year < 10 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Level { year, month })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{:02}", self.year, self.month)
    }
}

impl Level {
    /// `vYY.MM`.
    pub const fn new(year: u8, month: u8) -> Level {
        Level { year, month }
    }

    /// The release a migration of `migrations-test/` brings the schema to: its description
    /// reads `v24 02` (from `240200_v24_02.sql`) or `v22 05 baseline`.
    pub fn of_migration(description: &str) -> Option<Level> {
        let mut words = description.split_whitespace();
        format!("{}.{}", words.next()?, words.next()?).parse().ok()
    }

    /// `v22_05`, for file names.
    pub fn file_tag(&self) -> String {
        format!("v{}_{:02}", self.year, self.month)
    }
}
