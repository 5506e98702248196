//! English completeness (issue 18): every page a signed-in administrator reaches by following
//! links, rendered in English, shows no raw message key and no Chinese — except data values
//! (names, region names, text people typed), which are recognised by comparing each run of Han
//! characters with the fixture data and the region names stored in the database.

use std::collections::{BTreeSet, VecDeque};

use super::*;

/// What the fixtures typed in Chinese: names and texts that may appear on pages as data.
const DATA: &[&str] = &[
    "株洲市荷塘区明德社工服务中心",
    "月塘街道社工站",
    "刘桂英",
    "独居，情绪低落",
    "建立支持",
    "情绪改善",
    "王芳",
    "重阳游园",
    "党群服务中心",
    "场地面积达标",
];

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// Runs of Han characters in `text`.
fn han_runs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if is_han(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A token that looks like a message key left untranslated ("case.assessment").
fn raw_keys(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "()（）,，:：;；\"'“”[]".contains(c))
        .filter(|w| {
            let parts: Vec<&str> = w.split('.').collect();
            parts.len() >= 2
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
                        && p.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                })
                && ![
                    "xlsx", "csv", "pdf", "json", "png", "jpg", "com", "cn", "org", "toml", "html",
                ]
                .contains(parts.last().unwrap_or(&""))
        })
        .map(str::to_owned)
        .collect()
}

/// The visible text of a page: text nodes outside scripts, styles and text areas, and the
/// attributes people read (titles, placeholders, labels for screen readers, image texts).
fn visible_text(html: &scraper::Html) -> Vec<String> {
    let mut out = Vec::new();
    for node in html.tree.nodes() {
        match node.value() {
            scraper::Node::Text(t) => {
                // Scripts and typed text are not labels; an element marked as Chinese (the
                // language switch's "中文") is Chinese on purpose.
                let hidden = node.ancestors().any(|a| {
                    a.value().as_element().is_some_and(|e| {
                        matches!(e.name(), "script" | "style" | "textarea" | "noscript")
                            || e.attr("lang").is_some_and(|l| l.starts_with("zh"))
                    })
                });
                if !hidden && !t.trim().is_empty() {
                    out.push(t.to_string());
                }
            }
            scraper::Node::Element(e) => {
                for attr in ["title", "placeholder", "aria-label", "alt"] {
                    if let Some(v) = e.attr(attr) {
                        out.push(v.to_owned());
                    }
                }
                // Button texts given as values.
                if e.name() == "input"
                    && matches!(e.attr("type"), Some("submit" | "button"))
                    && let Some(v) = e.attr("value")
                {
                    out.push(v.to_owned());
                }
            }
            _ => {}
        }
    }
    out
}

/// Same-site page links worth visiting (no API, downloads or sign-out), by path.
fn links(html: &scraper::Html) -> Vec<String> {
    let sel = scraper::Selector::parse("a[href]").unwrap();
    html.select(&sel)
        .filter_map(|a| a.value().attr("href"))
        .map(|h| h.split('#').next().unwrap_or("").to_owned())
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .filter(|h| {
            let path = h.split('?').next().unwrap_or("");
            !(path.starts_with("/api")
                || path.starts_with("/logout")
                || path.starts_with("/lang/")
                || path.starts_with("/attachments/")
                || path.starts_with("/assets")
                || path.starts_with("/static")
                || [
                    ".xlsx", ".csv", ".pdf", ".json", ".js", ".css", ".png", ".svg", ".ico",
                ]
                .iter()
                .any(|x| path.ends_with(x)))
        })
        .collect()
}

/// Region names and other stored data the pages and exports may show, from the database.
async fn region_names(app: &TestApp) -> Vec<String> {
    let mut c = app.state.db.read().await.unwrap();
    let rows: Vec<(String,)> = shegong_store::sql::Sql::new(
        "SELECT name FROM regions WHERE code LIKE '43%' OR LENGTH(code) <= 2",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut names: Vec<String> = rows.into_iter().map(|(n,)| n).collect();
    // Evaluation indicator trees are written by the regions that use them (names, scoring
    // rules): data, shown as written.
    let trees: Vec<(String, String)> =
        shegong_store::sql::Sql::new("SELECT name, nodes FROM indicator_trees")
            .fetch_all(&mut c)
            .await
            .unwrap();
    names.extend(trees.into_iter().flat_map(|(n, nodes)| [n, nodes]));
    names
}

/// Excel exports linked from a page (`….xlsx`, with their query), by path.
fn exports(html: &scraper::Html) -> Vec<String> {
    let sel = scraper::Selector::parse("a[href]").unwrap();
    html.select(&sel)
        .filter_map(|a| a.value().attr("href"))
        .filter(|h| h.starts_with('/') && h.split('?').next().unwrap_or("").ends_with(".xlsx"))
        .map(str::to_owned)
        .collect()
}

/// Every export linked from the pages visited, downloaded in English: its title, headers and
/// catalogue labels must be English too (data values excepted, as on pages).
async fn check_exports(
    c: &mut Client,
    data: &str,
    hrefs: &BTreeSet<String>,
) -> (usize, Vec<String>) {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut checked = 0;
    for href in hrefs {
        // One download per kind of export: record ids and region codes in the path are alike.
        let kind: Vec<&str> = href
            .split('?')
            .next()
            .unwrap_or("")
            .split('/')
            .map(|seg| {
                if seg.len() == 36 && seg.matches('-').count() == 4 {
                    "{id}"
                } else if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
                    "{code}"
                } else {
                    seg
                }
            })
            .collect();
        if !seen.insert(kind.join("/")) {
            continue;
        }
        let res = c
            .send(Method::GET, href, None, &[("accept-language", "en")])
            .await;
        if !res.status.is_success() {
            continue;
        }
        checked += 1;
        let text = xlsx_text(&res.bytes);
        for line in text.lines() {
            for cell in line.split('\t') {
                for run in han_runs(cell) {
                    if !data.contains(run.as_str()) {
                        problems.push(format!("{href}: Chinese “{run}” in cell “{cell}”"));
                    }
                }
            }
        }
        if let Some(name) = res
            .headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
        {
            // The file name is percent-encoded UTF-8 (`filename*=`): decoded, it is checked too.
            let decoded = percent_decode(name);
            for run in han_runs(&decoded) {
                if !data.contains(run.as_str()) {
                    problems.push(format!(
                        "{href}: Chinese “{run}” in the file name “{decoded}”"
                    ));
                }
            }
        }
    }
    (checked, problems)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Crawl from the home page in English; the problems found, as "path: what". The exports
/// linked from the pages visited are added to `found`.
async fn crawl(
    c: &mut Client,
    data: &str,
    limit: usize,
    found: &mut BTreeSet<String>,
) -> (usize, Vec<String>) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = VecDeque::from(["/".to_owned()]);
    let mut problems = Vec::new();
    let mut visited = 0;
    while let Some(href) = queue.pop_front() {
        let path = href.split('?').next().unwrap_or("").to_owned();
        // One visit per path (the first query seen), plus region-coded paths once per level.
        if !seen.insert(path.clone()) || visited >= limit {
            continue;
        }
        let res = c
            .send(Method::GET, &href, None, &[("accept-language", "en")])
            .await;
        let html_page = res
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("text/html"));
        if !res.status.is_success() || !html_page {
            continue;
        }
        visited += 1;
        let html = res.html();
        for text in visible_text(&html) {
            for run in han_runs(&text) {
                if !data.contains(run.as_str()) {
                    problems.push(format!("{href}: Chinese “{run}” in “{}”", text.trim()));
                }
            }
            for key in raw_keys(&text) {
                problems.push(format!("{href}: raw key “{key}”"));
            }
        }
        for l in links(&html) {
            queue.push_back(l);
        }
        found.extend(exports(&html));
    }
    (visited, problems)
}

app_test!(
    english_pages_have_no_raw_keys_and_no_untranslated_chinese,
    |app| {
        // Records for the detail pages: an agency, a station, a resident with a case and a service.
        let org = fixtures::agency(&app, DATA[0], "430202").await;
        let st = fixtures::station(&app, "430202001", DATA[1], &org).await;
        let mut admin = app.login_as(Role::CivilAffairsAdmin, "4302").await;
        let res = admin
            .post_form(
                "/residents",
                &[
                    ("name", "刘桂英"),
                    ("birth_date", "1950-03-03"),
                    ("region", "430202001"),
                    ("risk_tier", "high"),
                    ("legal_basis", "statutory_duty"),
                    ("station", st.as_str()),
                    ("confirm_duplicates", "1"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let rid = res
            .location()
            .trim_start_matches("/residents/")
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let res = admin
            .post_form(
                &format!("/residents/{rid}/cases"),
                &[("problem", "独居，情绪低落")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        let today = shegong_web::ui::forms::today(app.state.now());
        let res = admin
            .post_form(
                "/services",
                &[
                    ("resident", rid.as_str()),
                    ("kind", "visit"),
                    ("domain", "elderly"),
                    ("method", "home"),
                    ("served_on", today.as_str()),
                    ("duration_minutes", "60"),
                    ("workers", "王芳"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);

        let mut data = region_names(&app).await.join("|");
        data.push('|');
        data.push_str(&DATA.join("|"));
        let mut found = BTreeSet::new();
        let (mut total, mut all) = crawl(&mut admin, &data, 400, &mut found).await;
        // Pages may have made records of their own (a region's default indicator tree): read the
        // stored data again for the exports.
        let mut data = region_names(&app).await.join("|");
        data.push('|');
        data.push_str(&DATA.join("|"));
        let (files, problems) = check_exports(&mut admin, &data, &found).await;
        all.extend(problems);
        for role in [Role::SystemAdmin, Role::SecurityAdmin] {
            let mut c = app.login_as(role, "4302").await;
            let mut found = BTreeSet::new();
            let (visited, problems) = crawl(&mut c, &data, 400, &mut found).await;
            total += visited;
            all.extend(problems);
            all.extend(check_exports(&mut c, &data, &found).await.1);
        }
        eprintln!("{total} English pages and {files} of the administrator's exports checked");
        assert!(total > 40, "only {total} pages reached");
        assert!(files > 10, "only {files} exports reached");
        all.sort();
        all.dedup();
        assert!(
            all.is_empty(),
            "{} problems on English pages:\n{}",
            all.len(),
            all.join("\n")
        );
    }
);
