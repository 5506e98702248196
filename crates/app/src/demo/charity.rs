//! Demo data of community charity: 贺家土街道's community fund, hosted by 株洲市慈善总会 (which
//! holds public-fundraising status), with its committee (a chair, four members and a
//! supervisor), a season of donations of money and goods (named, anonymous, receipts issued or
//! waived, one designated), the goods stock with an issue and a stock-take, small wishes in every
//! state, and disbursements to a project and to wishes, approved by the committee's decisions and
//! paid. Written through the store, as in use; deterministic.

use chrono::{Duration, NaiveDate};
use shegong_domain::charity::{
    Channel, CommitteeRole, DonationKind, MoveKind, Receipt, TargetKind, UseKind, WishState,
};
use shegong_domain::{RegionCode, Scope};
use shegong_store::charity::{
    self as ch, Decision, DisbursementInput, DonationInput, FundInput, MemberInput, StockInput,
    WishInput,
};
use shegong_store::crypto::KeyRing;
use shegong_store::network::stations;
use shegong_store::people::residents::Viewer;
use shegong_store::{Conn, PageRequest};
use shegong_web::AppState;

const BY: &str = "demo";
const TOWNSHIP: &str = "430203001";

/// Seed the fund when 贺家土's station exists (the network demo made it).
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let today = NaiveDate::parse_from_str(&shegong_web::ui::forms::today(now), "%Y-%m-%d")?;
    let day = |ago: i64| (today - Duration::days(ago)).to_string();
    let scope = Scope::region(RegionCode::parse(TOWNSHIP)?);
    let mut tx = state.db.begin().await?;
    let station = stations::list(
        &mut tx,
        &scope,
        &stations::Filter::default(),
        PageRequest::default(),
    )
    .await?
    .items
    .into_iter()
    .next()
    .map(|s| s.id);
    let fund = FundInput {
        region: RegionCode::parse(TOWNSHIP)?,
        station_id: station.clone(),
        name: "株洲市慈善总会贺家土街道社区慈善基金".into(),
        host_name: "株洲市慈善总会".into(),
        host_uscc: "91350100M000100Y43".into(),
        host_public_fundraising: true,
        initiator: "贺家土街道办事处".into(),
        purpose: "困难群众帮扶、微心愿、社区微项目".into(),
        residual_rule: "终止后剩余财产转入株洲市慈善总会同类公益项目".into(),
        starts_on: day(120),
        ends_on: None,
    };
    let fund_id = ch::create_fund(&mut tx, &scope, &fund, BY, now).await?;
    committee(&mut tx, &scope, &fund_id, now).await?;
    donations(&mut tx, &scope, &fund_id, station.as_deref(), (&day, now)).await?;
    stock(&mut tx, &scope, &fund_id, (&day, now)).await?;
    let wishes = wishes(&mut tx, &scope, &fund_id, (&day, now)).await?;
    let paid: Vec<String> = wishes.iter().map(|(id, _)| id.clone()).collect();
    // Paid as the demo's operator, who sees the township's files.
    let viewer = Viewer {
        scope: scope.clone(),
        user_id: BY.into(),
        sees_protected: true,
        today,
    };
    let payer = (&viewer, &state.keys);
    disbursements(&mut tx, payer, &fund_id, &paid, (&day, now)).await?;
    // The wishes paid for are then fulfilled (and one confirmed by the family).
    for (id, steps) in wishes {
        for to in steps {
            ch::step_wish(&mut tx, &scope, &id, to, "", &day(20), now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn committee(tx: &mut Conn, scope: &Scope, fund: &str, now: i64) -> anyhow::Result<()> {
    let members = [
        ("周建国", CommitteeRole::Chair, "贺家土街道办事处"),
        ("李梅", CommitteeRole::Member, "贺家土社区居委会"),
        ("张强", CommitteeRole::Member, "辖区企业代表"),
        ("刘芳", CommitteeRole::Member, "居民代表"),
        ("陈刚", CommitteeRole::Member, "贺家土街道社工站"),
        ("赵敏", CommitteeRole::Supervisor, "株洲市慈善总会"),
    ];
    for (name, role, affiliation) in members {
        let m = MemberInput {
            name: name.into(),
            role,
            affiliation: affiliation.into(),
            unpaid: true,
        };
        ch::add_member(tx, scope, fund, &m, BY, now).await?;
    }
    Ok(())
}

type Clock<'a> = (&'a dyn Fn(i64) -> String, i64);

async fn donations(
    tx: &mut Conn,
    scope: &Scope,
    fund: &str,
    station: Option<&str>,
    (day, now): Clock<'_>,
) -> anyhow::Result<()> {
    // (donor, yuan, receipt, channel, days ago); an empty donor gave anonymously.
    let money = [
        (
            "株洲某建材有限公司",
            20_000,
            Receipt::Issued,
            Channel::Transfer,
            110,
        ),
        ("刘女士", 500, Receipt::Waived, Channel::Qr, 100),
        ("", 200, Receipt::Anonymous, Channel::Cash, 95),
        (
            "贺家土社区党支部",
            3_000,
            Receipt::Issued,
            Channel::Transfer,
            80,
        ),
        ("王先生", 1_000, Receipt::Issued, Channel::Qr, 60),
        ("", 100, Receipt::Anonymous, Channel::Qr, 45),
        (
            "荷塘区某超市",
            5_000,
            Receipt::Issued,
            Channel::Transfer,
            30,
        ),
        ("张阿姨", 300, Receipt::Waived, Channel::Cash, 12),
    ];
    let mut receipt_no = 0;
    for (i, (donor, yuan, receipt, channel, ago)) in money.into_iter().enumerate() {
        if receipt == Receipt::Issued {
            receipt_no += 1;
        }
        let d = DonationInput {
            fund_id: fund.into(),
            kind: DonationKind::Money,
            amount_fen: yuan * 100,
            item: String::new(),
            quantity: 0,
            unit: String::new(),
            donor_name: donor.into(),
            receipt,
            receipt_no: if receipt == Receipt::Issued {
                format!("ZZCS-2026-{receipt_no:04}")
            } else {
                String::new()
            },
            use_kind: if i == 3 {
                UseKind::Designated
            } else {
                UseKind::General
            },
            designated_purpose: if i == 3 {
                "困难老人重阳节慰问".into()
            } else {
                String::new()
            },
            channel,
            station_id: station.map(str::to_owned),
            received_on: day(ago),
        };
        ch::create_donation(tx, scope, &d, BY, now).await?;
    }
    let goods = [
        ("大米", 40, "袋", 4_000),
        ("食用油", 30, "桶", 2_400),
        ("书包", 20, "个", 1_600),
    ];
    for (i, (item, quantity, unit, yuan)) in goods.into_iter().enumerate() {
        let d = DonationInput {
            fund_id: fund.into(),
            kind: DonationKind::Goods,
            amount_fen: yuan * 100,
            item: item.into(),
            quantity,
            unit: unit.into(),
            donor_name: "荷塘区某超市".into(),
            receipt: Receipt::Waived,
            receipt_no: String::new(),
            use_kind: UseKind::General,
            designated_purpose: String::new(),
            channel: Channel::GoodsPoint,
            station_id: station.map(str::to_owned),
            received_on: day(70 - 20 * i64::try_from(i).unwrap_or(0)),
        };
        ch::create_donation(tx, scope, &d, BY, now).await?;
    }
    Ok(())
}

async fn stock(
    tx: &mut Conn,
    scope: &Scope,
    fund: &str,
    (day, now): Clock<'_>,
) -> anyhow::Result<()> {
    let moves = [
        ("大米", "袋", MoveKind::Issue, 25, "重阳节慰问困难老人", 40),
        (
            "食用油",
            "桶",
            MoveKind::Issue,
            20,
            "重阳节慰问困难老人",
            40,
        ),
        ("大米", "袋", MoveKind::Count, 14, "月末盘点：破损 1 袋", 5),
    ];
    for (item, unit, kind, quantity, note, ago) in moves {
        let m = StockInput {
            fund_id: fund.into(),
            item: item.into(),
            unit: unit.into(),
            kind,
            quantity,
            signed_by: if kind == MoveKind::Issue {
                "陈刚".into()
            } else {
                String::new()
            },
            note: note.into(),
            moved_on: day(ago),
        };
        ch::move_stock(tx, scope, &m, BY, now).await?;
    }
    Ok(())
}

/// A demo wish: title, category, value (yuan), steps before and after it is paid for.
type Wish = (
    &'static str,
    &'static str,
    i64,
    &'static [WishState],
    &'static [WishState],
);

/// Small wishes, posted and some claimed; returns the two to be paid for with the steps they
/// take once paid (fulfilled, and one confirmed).
async fn wishes(
    tx: &mut Conn,
    scope: &Scope,
    fund: &str,
    (day, now): Clock<'_>,
) -> anyhow::Result<Vec<(String, Vec<WishState>)>> {
    use WishState::{Claimed, Confirmed, Fulfilled};
    let list: [Wish; 5] = [
        (
            "想要一个新书包",
            "学习用品",
            150,
            &[Claimed],
            &[Fulfilled, Confirmed],
        ),
        (
            "冬天需要一床厚棉被",
            "生活用品",
            300,
            &[Claimed],
            &[Fulfilled],
        ),
        ("希望有人陪我下棋聊天", "陪伴", 0, &[Claimed], &[]),
        ("需要一台助听器", "康复辅具", 800, &[], &[]),
        ("想学用智能手机视频通话", "陪伴", 0, &[], &[]),
    ];
    let mut paid = Vec::new();
    for (i, (title, category, yuan, steps, after)) in list.into_iter().enumerate() {
        let w = WishInput {
            fund_id: fund.into(),
            title: title.into(),
            category: category.into(),
            value_fen: yuan * 100,
            beneficiary_resident_id: None,
            beneficiary_note: "见社工站台账".into(),
            posted_on: day(50 - 5 * i64::try_from(i).unwrap_or(0)),
        };
        let id = ch::create_wish(tx, scope, &w, BY, now).await?;
        for (k, to) in steps.iter().enumerate() {
            let claimant = if *to == WishState::Claimed {
                "荷塘区青年志愿者协会"
            } else {
                ""
            };
            let on = day(30 - 5 * i64::try_from(k).unwrap_or(0));
            ch::step_wish(tx, scope, &id, *to, claimant, &on, now).await?;
        }
        if !after.is_empty() {
            paid.push((id, after.to_vec()));
        }
    }
    Ok(paid)
}

async fn disbursements(
    tx: &mut Conn,
    (viewer, keys): (&Viewer, &KeyRing),
    fund: &str,
    wishes: &[String],
    (day, now): Clock<'_>,
) -> anyhow::Result<()> {
    let mut planned = vec![(
        TargetKind::Project,
        None,
        "重阳节慰问困难老人 40 户",
        280_000,
        true,
    )];
    for (w, yuan) in wishes.iter().zip([15_000, 30_000]) {
        planned.push((TargetKind::Wish, Some(w.clone()), "", yuan, true));
    }
    planned.push((
        TargetKind::Project,
        None,
        "社区长者食堂助餐补贴（第四季度）",
        300_000,
        false,
    ));
    for (n, (target_kind, wish_id, purpose, fen, settle)) in planned.into_iter().enumerate() {
        let d = DisbursementInput {
            fund_id: fund.into(),
            target_kind,
            wish_id,
            recipient_resident_id: None,
            purpose: purpose.into(),
            amount_fen: fen,
        };
        let id = ch::propose(tx, &viewer.scope, &d, BY, now).await?;
        if !settle {
            continue;
        }
        let decision = Decision {
            approve: true,
            resolution_ref: format!("管委会2026年第{}次会议决议", n + 1),
            decided_on: day(35),
        };
        ch::decide(tx, &viewer.scope, &id, &decision, now).await?;
        let payment = ch::Payment {
            paid_on: day(33),
            voucher_no: format!("付字2026-{:03}", n + 1),
            duration_minutes: None,
            workers: "贺家土街道社工站".into(),
        };
        ch::pay(tx, viewer, keys, &id, &payment, BY, now).await?;
    }
    Ok(())
}
