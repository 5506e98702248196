-- (SQLite) 社区慈善 (issue 15 item 3): community funds, their committees, donations, small wishes,
-- disbursements and goods stock. Money in fen. Every table carries the fund's region.

-- Community funds (社区慈善基金): initiated by a township or community, hosted by a charity with
-- public-fundraising status. No legal personality: every income and spending goes through the
-- host's accounts, so the fund keeps no account of its own and its receipts are the host's.
CREATE TABLE charity_funds (
    id                      TEXT PRIMARY KEY,
    region_code             TEXT NOT NULL REFERENCES regions(code),
    -- The station that runs it day to day (an organisation's scope sees the funds its stations run).
    station_id              TEXT REFERENCES stations(id),
    name                    TEXT NOT NULL,
    host_name               TEXT NOT NULL,
    host_uscc               TEXT NOT NULL,
    host_public_fundraising BIGINT NOT NULL CHECK (host_public_fundraising = 1),
    initiator               TEXT NOT NULL DEFAULT '',
    purpose                 TEXT NOT NULL,
    -- What happens to the remaining property when the fund ends (the agreement's clause).
    residual_rule           TEXT NOT NULL,
    starts_on               TEXT NOT NULL,
    ends_on                 TEXT,
    created_by              TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    UNIQUE (region_code, name)
);
CREATE INDEX charity_funds_region ON charity_funds(region_code, name);

-- The management committee (管理委员会): unpaid members, one of whom may chair, and supervisors
-- (监督员) who attend and record their opinions.
CREATE TABLE charity_committee (
    id          TEXT PRIMARY KEY,
    fund_id     TEXT NOT NULL REFERENCES charity_funds(id),
    region_code TEXT NOT NULL REFERENCES regions(code),
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('chair','member','supervisor')),
    affiliation TEXT NOT NULL DEFAULT '',
    unpaid      BIGINT NOT NULL CHECK (unpaid = 1),
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (fund_id, name)
);
CREATE INDEX charity_committee_fund ON charity_committee(fund_id, role);

-- Donations of money (fen) or goods (item, quantity, declared value in fen), received at a
-- donation site (a station) or by transfer; the donor by name, or anonymous; the receipt issued
-- (its number unique per host), waived or not issued to an anonymous donor.
CREATE TABLE charity_donations (
    id                 TEXT PRIMARY KEY,
    fund_id            TEXT NOT NULL REFERENCES charity_funds(id),
    region_code        TEXT NOT NULL REFERENCES regions(code),
    kind               TEXT NOT NULL CHECK (kind IN ('money','goods')),
    amount_fen         BIGINT NOT NULL CHECK (amount_fen >= 0),
    item               TEXT NOT NULL DEFAULT '',
    quantity           BIGINT NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    unit               TEXT NOT NULL DEFAULT '',
    donor_name         TEXT,
    receipt            TEXT NOT NULL CHECK (receipt IN ('issued','waived','anonymous')),
    receipt_no         TEXT,
    host_uscc          TEXT NOT NULL,
    use_kind           TEXT NOT NULL CHECK (use_kind IN ('general','designated')),
    designated_purpose TEXT NOT NULL DEFAULT '',
    channel            TEXT NOT NULL CHECK (channel IN ('transfer','qr','cash','goods_point')),
    station_id         TEXT REFERENCES stations(id),
    received_on        TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    UNIQUE (host_uscc, receipt_no),
    CHECK (receipt = 'issued' OR receipt_no IS NULL),
    CHECK (receipt <> 'anonymous' OR donor_name IS NULL)
);
CREATE INDEX charity_donations_fund ON charity_donations(fund_id, received_on);
CREATE INDEX charity_donations_region ON charity_donations(region_code, received_on);

-- 微心愿: posted for a person or family (the resident on file and any note stay internal; what
-- is published is the title, category and value), claimed, fulfilled, confirmed.
CREATE TABLE charity_wishes (
    id                      TEXT PRIMARY KEY,
    fund_id                 TEXT NOT NULL REFERENCES charity_funds(id),
    region_code             TEXT NOT NULL REFERENCES regions(code),
    title                   TEXT NOT NULL,
    category                TEXT NOT NULL DEFAULT '',
    value_fen               BIGINT NOT NULL CHECK (value_fen >= 0),
    beneficiary_resident_id TEXT REFERENCES residents(id),
    beneficiary_note        TEXT NOT NULL DEFAULT '',
    state                   TEXT NOT NULL CHECK (state IN ('posted','claimed','fulfilled','confirmed')),
    claimant                TEXT NOT NULL DEFAULT '',
    posted_on               TEXT NOT NULL,
    claimed_on              TEXT,
    fulfilled_on            TEXT,
    confirmed_on            TEXT,
    created_by              TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX charity_wishes_fund ON charity_wishes(fund_id, state);

-- Disbursements to a project, a person or family, or a wish: proposed, decided by the committee
-- (its decision record), paid through the host. The recipient on file stays internal.
CREATE TABLE charity_disbursements (
    id                    TEXT PRIMARY KEY,
    fund_id               TEXT NOT NULL REFERENCES charity_funds(id),
    region_code           TEXT NOT NULL REFERENCES regions(code),
    target_kind           TEXT NOT NULL CHECK (target_kind IN ('project','person','wish')),
    wish_id               TEXT REFERENCES charity_wishes(id),
    recipient_resident_id TEXT REFERENCES residents(id),
    -- The public purpose (a project's name, "助困", the wish's title): no personal data.
    purpose               TEXT NOT NULL,
    amount_fen            BIGINT NOT NULL CHECK (amount_fen > 0),
    state                 TEXT NOT NULL CHECK (state IN ('proposed','approved','rejected','paid')),
    resolution_ref        TEXT NOT NULL DEFAULT '',
    decided_on            TEXT,
    paid_on               TEXT,
    voucher_no            TEXT NOT NULL DEFAULT '',
    created_by            TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    CHECK (target_kind <> 'wish' OR wish_id IS NOT NULL)
);
CREATE INDEX charity_disbursements_fund ON charity_disbursements(fund_id, state);

-- Goods stock: receipts (+, from a donation of goods or otherwise), issues (-, signed for) and
-- stock-takes (the counted quantity, and the difference it makes). Only inserted.
CREATE TABLE charity_stock_moves (
    id          TEXT PRIMARY KEY,
    fund_id     TEXT NOT NULL REFERENCES charity_funds(id),
    region_code TEXT NOT NULL REFERENCES regions(code),
    item        TEXT NOT NULL,
    unit        TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL CHECK (kind IN ('receipt','issue','count')),
    delta       BIGINT NOT NULL,
    counted     BIGINT,
    donation_id TEXT REFERENCES charity_donations(id),
    signed_by   TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    moved_on    TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX charity_stock_moves_fund ON charity_stock_moves(fund_id, item, created_at);
