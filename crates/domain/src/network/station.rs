//! Township social work stations (社工站) and their construction, indicators and inspection.

use crate::FieldError;
use crate::network::region::{RegionCode, RegionLevel};

codes!(
    /// Three tiers: county guidance centre → township station → village/community room.
    Tier, "tier", "station.tier_unknown" {
        CountyCenter = "county_center",
        TownshipStation = "township_station",
        VillageRoom = "village_room",
    }
);

codes!(
    /// Operating mode: a purchased project run by an agency, or direct employment by the township.
    Mode, "mode", "station.mode_unknown" {
        Purchase = "purchase",
        Direct = "direct",
    }
);

codes!(
    Status, "status", "station.status_unknown" {
        Planned = "planned",
        UnderConstruction = "under_construction",
        Operating = "operating",
        Suspended = "suspended",
        Closed = "closed",
    }
);

codes!(
    /// Rooms a station site has.
    Room, "rooms", "station.room_unknown" {
        Office = "office",
        CaseRoom = "case_room",
        GroupRoom = "group_room",
        MultiRoom = "multi_room",
        ArchiveRoom = "archive_room",
        Nameplate = "nameplate",
    }
);

codes!(
    FundingSource, "source", "station.funding_source_unknown" {
        Purchase = "purchase",
        WelfareLottery = "welfare_lottery",
        Township = "township",
        County = "county",
        Other = "other",
    }
);

codes!(
    /// Service domains of the configurable service list (服务清单).
    ServiceDomain, "domain", "service.domain_unknown" {
        SocialAssistance = "social_assistance",
        Elderly = "elderly",
        Children = "children",
        Disability = "disability",
        CommunityGovernance = "community_governance",
        SocialAffairs = "social_affairs",
    }
);

codes!(
    /// The five indicators: 场所、经费、人员、制度、服务.
    Category, "category", "indicator.category_unknown" {
        Site = "site",
        Funding = "funding",
        Staff = "staff",
        Rules = "rules",
        Services = "services",
    }
);

codes!(
    Evidence, "evidence", "indicator.evidence_unknown" {
        Photo = "photo",
        Document = "document",
        Record = "record",
        None = "none",
    }
);

codes!(
    /// Organisation rating by the civil-affairs authority (社会组织评估等级); empty when unrated.
    Rating, "rating", "org.rating_unknown" {
        Unrated = "",
        A1 = "1A",
        A2 = "2A",
        A3 = "3A",
        A4 = "4A",
        A5 = "5A",
    }
);

codes!(
    /// Rectification (整改): open → submitted (owner reports it done) → verified → closed, or back to open.
    Rectification, "status", "rectification.status_unknown" {
        Open = "open",
        Submitted = "submitted",
        Verified = "verified",
        Closed = "closed",
    }
);

impl Status {
    /// The lifecycle: planned → under construction → operating ⇄ suspended; any → closed.
    pub fn can_become(self, next: Status) -> bool {
        use Status::*;
        match (self, next) {
            (a, b) if a == b => false,
            (Closed, _) => false,
            (_, Closed) => true,
            (Planned, UnderConstruction | Operating) => true,
            (UnderConstruction, Operating | Planned) => true,
            (Operating, Suspended) => true,
            (Suspended, Operating) => true,
            _ => false,
        }
    }

    /// A closed station no longer holds its place: another may open in its region.
    pub fn holds_place(self) -> bool {
        self != Status::Closed
    }

    /// Stations still being built report their progress monthly.
    pub fn reports_progress(self) -> bool {
        matches!(self, Status::Planned | Status::UnderConstruction)
    }
}

impl Tier {
    /// The region level a station of this tier serves.
    pub fn region_level(self) -> RegionLevel {
        match self {
            Tier::CountyCenter => RegionLevel::County,
            Tier::TownshipStation => RegionLevel::Township,
            Tier::VillageRoom => RegionLevel::Village,
        }
    }

    /// A township (street) has one township station: a second one is refused while the first
    /// holds its place (is not closed). County centres and village rooms are not limited here.
    pub fn one_per_region(self) -> bool {
        self == Tier::TownshipStation
    }

    pub fn check_region(self, region: &RegionCode) -> Result<(), FieldError> {
        if region.level() == self.region_level() {
            Ok(())
        } else {
            Err(FieldError::new("region", "station.region_level"))
        }
    }
}

impl Rectification {
    pub fn can_become(self, next: Rectification) -> bool {
        use Rectification::*;
        matches!(
            (self, next),
            (Open, Submitted) | (Submitted, Verified) | (Submitted, Open) | (Verified, Closed)
        )
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Rectification::Closed | Rectification::Verified)
    }
}

/// Parse a comma/、/space separated list of room codes, dropping duplicates.
pub fn parse_rooms(s: &str) -> Result<Vec<Room>, FieldError> {
    let mut out = Vec::new();
    for part in s
        .split([',', '，', '、', ' ', ';', '；'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let r = Room::parse(part)?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

pub fn rooms_to_string(rooms: &[Room]) -> String {
    rooms
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Readiness in percent: the weight of met items over the weight of all applicable items,
/// rounded half up. No applicable items → 0 (nothing has been shown to be ready).
pub fn readiness_pct(met_weight: i64, total_weight: i64) -> i64 {
    if total_weight <= 0 {
        0
    } else {
        (met_weight * 200 + total_weight) / (2 * total_weight)
    }
}

/// A calendar date as stored (`YYYY-MM-DD`).
pub fn parse_date(field: &'static str, s: &str) -> Result<chrono::NaiveDate, FieldError> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "date.invalid"))
}

/// A month key `YYYYMM` from "YYYY-MM".
pub fn parse_month(field: &'static str, s: &str) -> Result<i64, FieldError> {
    let (y, m) = s
        .trim()
        .split_once('-')
        .ok_or(FieldError::new(field, "date.invalid_month"))?;
    let (y, m): (i64, i64) = (
        y.parse()
            .map_err(|_| FieldError::new(field, "date.invalid_month"))?,
        m.parse()
            .map_err(|_| FieldError::new(field, "date.invalid_month"))?,
    );
    if !(2000..=2100).contains(&y) || !(1..=12).contains(&m) {
        return Err(FieldError::new(field, "date.invalid_month"));
    }
    Ok(y * 100 + m)
}

/// Coordinates in micro-degrees, checked to lie roughly within China.
pub fn parse_coordinate(field: &'static str, s: &str, lo: f64, hi: f64) -> Result<i64, FieldError> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| FieldError::new(field, "station.coordinate_invalid"))?;
    if !(lo..=hi).contains(&v) {
        return Err(FieldError::new(field, "station.coordinate_out_of_range"));
    }
    Ok((v * 1_000_000.0).round() as i64)
}

pub fn parse_longitude(s: &str) -> Result<i64, FieldError> {
    parse_coordinate("lng", s, 73.0, 136.0)
}

pub fn parse_latitude(s: &str) -> Result<i64, FieldError> {
    parse_coordinate("lat", s, 3.0, 54.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_name_the_field() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()).unwrap(), *s);
        }
        assert_eq!(Tier::parse("hq").unwrap_err().field, "tier");
        assert_eq!(Rating::parse("").unwrap(), Rating::Unrated);
        assert_eq!(Rating::parse("6A").unwrap_err().code, "org.rating_unknown");
    }

    #[test]
    fn status_lifecycle() {
        use Status::*;
        assert!(Planned.can_become(UnderConstruction));
        assert!(UnderConstruction.can_become(Operating));
        assert!(Operating.can_become(Suspended));
        assert!(Suspended.can_become(Operating));
        assert!(Operating.can_become(Closed));
        assert!(!Closed.can_become(Operating));
        assert!(!Operating.can_become(Planned));
        assert!(!Operating.can_become(Operating));
    }

    #[test]
    fn one_township_station_while_it_is_not_closed() {
        assert!(Tier::TownshipStation.one_per_region());
        assert!(!Tier::VillageRoom.one_per_region());
        assert!(!Tier::CountyCenter.one_per_region());
        for s in [
            Status::Planned,
            Status::UnderConstruction,
            Status::Operating,
            Status::Suspended,
        ] {
            assert!(s.holds_place(), "{s:?}");
        }
        assert!(!Status::Closed.holds_place());
    }

    #[test]
    fn tiers_serve_their_level() {
        let t = RegionCode::parse("430203001").unwrap();
        assert!(Tier::TownshipStation.check_region(&t).is_ok());
        assert_eq!(
            Tier::VillageRoom.check_region(&t).unwrap_err().field,
            "region"
        );
    }

    #[test]
    fn readiness_rounds_half_up() {
        assert_eq!(readiness_pct(0, 0), 0);
        assert_eq!(readiness_pct(1, 3), 33);
        assert_eq!(readiness_pct(2, 3), 67);
        assert_eq!(readiness_pct(1, 8), 13);
        assert_eq!(readiness_pct(5, 5), 100);
    }

    #[test]
    fn rooms_and_dates_parse() {
        assert_eq!(
            parse_rooms("case_room、group_room,case_room").unwrap(),
            vec![Room::CaseRoom, Room::GroupRoom]
        );
        assert!(parse_rooms("ballroom").is_err());
        assert_eq!(parse_month("month", "2024-03").unwrap(), 202403);
        assert!(parse_month("month", "2024-13").is_err());
        assert!(parse_date("on", "2024-02-30").is_err());
        assert_eq!(parse_longitude("113.134").unwrap(), 113_134_000);
        assert_eq!(
            parse_latitude("95").unwrap_err().code,
            "station.coordinate_out_of_range"
        );
    }

    #[test]
    fn rectification_flow() {
        use Rectification::*;
        assert!(Open.can_become(Submitted));
        assert!(Submitted.can_become(Open));
        assert!(Submitted.can_become(Verified));
        assert!(Verified.can_become(Closed));
        assert!(!Open.can_become(Closed));
        assert!(Submitted.is_open() && !Closed.is_open());
    }
}
