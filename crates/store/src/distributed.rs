//! SQL constructs that would keep the schema from moving to a distributed PostgreSQL (Citus) or
//! a PostgreSQL-compatible distributed database (YugabyteDB), checked against every PostgreSQL
//! migration (docs/scaling.md, "SQL the code must avoid"). A construct already present is allowed
//! only in the migration named here, with the reason it has to be replaced before distribution.

/// (construct as written in SQL, upper case and single-spaced; the migrations allowed to use it).
pub const AVOIDED: &[(&str, &[&str])] = &[
    // The statement trigger counting resident writes (to be replaced by an application counter).
    ("CREATE TRIGGER", &["0039_resident_writes"]),
    ("CREATE FUNCTION", &["0039_resident_writes"]),
    ("CREATE OR REPLACE FUNCTION", &[]),
    ("CREATE SEQUENCE", &[]),
    ("SERIAL", &[]),
    ("BIGSERIAL", &[]),
    ("SMALLSERIAL", &[]),
    // The fold order of statistics deltas (not an id).
    ("AS IDENTITY", &["0005_stats"]),
    ("EXCLUDE", &[]),
    ("DEFERRABLE", &[]),
    ("CREATE RULE", &[]),
    ("INHERITS", &[]),
    ("UNLOGGED", &[]),
    ("CREATE EXTENSION", &[]),
    ("MATERIALIZED VIEW", &[]),
    ("USING GIST", &[]),
    ("USING BRIN", &[]),
    ("USING SPGIST", &[]),
    ("LISTEN", &[]),
    ("NOTIFY", &[]),
    ("TABLESPACE", &[]),
];

/// The SQL of a migration as the check reads it: comments and string literals dropped, upper
/// case, runs of whitespace one space, words padded with spaces so a construct matches whole
/// words only.
pub fn normalise(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                out.push(' ');
            }
            '\'' => {
                // A literal ('' inside is an escaped quote: two literals back to back, same result).
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                }
                out.push_str(" '' ");
            }
            c if c.is_alphanumeric() || c == '_' => out.extend(c.to_uppercase()),
            _ => out.push(' '),
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    format!(" {} ", words.join(" "))
}

/// The constructs of `AVOIDED` that `sql` (migration `name`) uses without being allowed to.
pub fn violations(name: &str, sql: &str) -> Vec<&'static str> {
    let text = normalise(sql);
    AVOIDED
        .iter()
        .filter(|(construct, allowed)| {
            text.contains(&format!(" {construct} ")) && !allowed.contains(&name)
        })
        .map(|(construct, _)| *construct)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_migrations_avoid_what_a_distributed_engine_refuses() {
        let mut found = Vec::new();
        for m in crate::migrate::POSTGRES {
            for v in violations(m.name, m.sql) {
                found.push(format!("{}: {v}", m.name));
            }
        }
        assert!(
            found.is_empty(),
            "constructs docs/scaling.md says to avoid (Citus / YugabyteDB): {found:?}"
        );
    }

    #[test]
    fn every_allowance_is_still_used() {
        // An allowance that no migration needs any more is removed, so the list stays honest.
        for (construct, allowed) in AVOIDED {
            for name in *allowed {
                let m = crate::migrate::POSTGRES
                    .iter()
                    .find(|m| m.name == *name)
                    .unwrap_or_else(|| panic!("{name} is not a migration"));
                assert!(
                    normalise(m.sql).contains(&format!(" {construct} ")),
                    "{name} no longer uses {construct}: drop the allowance"
                );
            }
        }
    }

    #[test]
    fn the_check_sees_constructs_and_only_whole_words() {
        assert_eq!(
            violations("x", "CREATE TABLE t (id bigserial, serial_no text);"),
            vec!["BIGSERIAL"],
            "whole words: serial_no is a name"
        );
        assert_eq!(violations("x", "CREATE TABLE t (n serial)"), vec!["SERIAL"]);
        assert_eq!(
            violations("x", "create unlogged table t (a int)"),
            vec!["UNLOGGED"]
        );
        assert_eq!(
            violations(
                "x",
                "-- create trigger in a comment\nSELECT 'create trigger'"
            ),
            Vec::<&str>::new()
        );
        assert_eq!(
            violations("x", "CREATE INDEX i ON t USING gist (g)"),
            vec!["USING GIST"]
        );
        assert!(violations("0039_resident_writes", "CREATE TRIGGER x").is_empty());
    }

    #[test]
    fn the_scaling_page_lists_every_construct() {
        let doc = include_str!("../../../docs/scaling.md").to_uppercase();
        for (construct, _) in AVOIDED {
            let shown = construct.trim_start_matches("CREATE OR REPLACE ");
            assert!(
                doc.contains(&format!("`{shown}`")) || doc.contains(&format!("`CREATE {shown}`")),
                "docs/scaling.md does not list {construct}"
            );
        }
    }
}
