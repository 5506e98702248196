//! The characters of residents' names (`resident_name_chars`, migration 0066): what makes
//! "name contains" a look-up. Each file has a row for every distinct character of its name and
//! every distinct pair of neighbouring characters. The list reads the files holding one of them
//! (the text's last pair, else its last character) in the scope's region range and tests only
//! their names, instead of testing every name in the scope. Every write of a file's name or
//! region writes its rows here, in the same transaction.

use sqlx::AnyConnection;

use crate::StoreResult;
use crate::sql::Sql;

/// Rows per INSERT (three parameters each).
const ROWS: usize = 3_000;

/// The distinct characters and neighbouring pairs of a name as stored (trimmed), as the
/// migration splits it.
fn grams(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.trim().chars().collect();
    let mut grams: Vec<String> = chars
        .iter()
        .map(|c| c.to_string())
        .chain(chars.windows(2).map(|w| w.iter().collect()))
        .collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// A character the rows answer for a search: one without case (a Han character, a digit), since
/// the name test ignores case and the rows keep the name as written.
fn caseless(c: char) -> bool {
    !c.is_whitespace() && c.to_lowercase().eq(c.to_uppercase()) && c.to_lowercase().eq([c])
}

/// What to look a search text up by, if the rows can answer it: its last pair of caseless
/// characters, else its last caseless character. The last: a Chinese name starts with its
/// family name, the most common characters. The text is taken as the name test takes it
/// (`Sql::contains_any`: wildcards dropped).
pub fn key(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().filter(|c| !matches!(c, '%' | '_')).collect();
    let pair = chars
        .windows(2)
        .rev()
        .find(|w| w.iter().all(|c| caseless(*c)))
        .map(|w| w.iter().collect());
    pair.or_else(|| {
        chars
            .iter()
            .rev()
            .find(|c| caseless(**c))
            .map(|c| c.to_string())
    })
}

/// Write the rows of files just inserted: `(id, region, name)` each, in key order. (Splitting
/// the stored names in the database instead, by the migration's statement, with two parameters
/// a file, was no faster on SQLite and slower on PostgreSQL in an import's commit.)
pub async fn insert(conn: &mut AnyConnection, files: &[(&str, &str, &str)]) -> StoreResult<()> {
    let mut rows: Vec<(String, &str, &str)> = files
        .iter()
        .flat_map(|(id, region, name)| grams(name).into_iter().map(move |g| (g, *region, *id)))
        .collect();
    rows.sort_unstable();
    for chunk in rows.chunks(ROWS) {
        let mut q =
            Sql::new("INSERT INTO resident_name_chars (ch, region_code, resident_id) VALUES ");
        for (i, (ch, region, id)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "(" } else { ", (" })
                .bind(ch.as_str())
                .push(", ")
                .bind(*region)
                .push(", ")
                .bind(*id)
                .push(")");
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Rewrite a file's rows after its name or region changed (nothing when neither did).
pub async fn replace(
    conn: &mut AnyConnection,
    id: &str,
    before: (&str, &str),
    after: (&str, &str),
) -> StoreResult<()> {
    let ((old_region, old_name), (region, name)) = (before, after);
    if old_region == region && old_name.trim() == name.trim() {
        return Ok(());
    }
    Sql::new("DELETE FROM resident_name_chars WHERE resident_id = ")
        .bind(id)
        .push(" AND region_code = ")
        .bind(old_region)
        .push(" AND ")
        .in_list("ch", &grams(old_name))
        .execute(&mut *conn)
        .await?;
    insert(conn, &[(id, region, name)]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_distinct_characters_and_pairs() {
        assert_eq!(grams(" 王小王 "), ["小", "小王", "王", "王小"]);
        assert_eq!(
            grams("Li Na"),
            [" ", " N", "L", "Li", "N", "Na", "a", "i", "i "]
        );
    }

    #[test]
    fn the_key_is_the_last_caseless_pair_or_character() {
        assert_eq!(key("王小明").as_deref(), Some("小明"));
        assert_eq!(key("王").as_deref(), Some("王"));
        assert_eq!(key("王 明").as_deref(), Some("明"));
        assert_eq!(key("王_明").as_deref(), Some("王明"));
        assert_eq!(key("明a").as_deref(), Some("明"));
        assert_eq!(key("a明b3").as_deref(), Some("3"));
        assert_eq!(key("li"), None);
        assert_eq!(key("%_"), None);
    }
}
