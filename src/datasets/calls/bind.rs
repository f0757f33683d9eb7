//! The one place that binds the calls filter's 34 parameters.

/// Runs the template `$query` (the `query!` of a `crate::levels::sql` module) whose parameters $1..$34 are the calls
/// filter (`--domain` and `queries/parts/calls_filter.sql`), bound from the [`CallsFilter`]
/// `$f`, followed by the template's own `$extra` parameters: the one place that binds them.
#[macro_export]
#[doc(hidden)]
macro_rules! query_with_calls_filter {
    ($($query:ident)::+, $db:expr, $level:expr, $row:ident, $f:ident, ($($extra:expr),* $(,)?)) => {{
        use $crate::datasets::list;
        $($query)::+!(
            $db,
            $level,
            $row,
            (
                list(&$f.domains),
                $f.created.from,
                $f.created.to,
                $f.stored.from,
                $f.stored.to,
                $f.answered.from,
                $f.answered.to,
                $f.number_regex.as_deref(),
                $f.q.as_deref(),
                $f.variables_json.as_deref(),
                list(&$f.users),
                list(&$f.owners),
                list(&$f.agents),
                list(&$f.queues),
                list(&$f.teams),
                list(&$f.members),
                list(&$f.gateways),
                list(&$f.contacts),
                list(&$f.grantees),
                list(&$f.ids),
                list(&$f.parent_ids),
                list(&$f.dependency_ids),
                $f.top_level,
                $f.has_file,
                list(&$f.causes),
                $f.min_duration,
                $f.max_duration,
                $f.min_talk,
                $f.max_talk,
                $f.direction.map($crate::datasets::Direction::as_str),
                $f.missed,
                list(&$f.tags),
                list(&$f.amd_results),
                $f.has_transfer,
                $($extra),*
            )
        )
    }};
}
