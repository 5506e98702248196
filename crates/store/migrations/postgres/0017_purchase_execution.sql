-- (PostgreSQL) A contract's execution (issue 14 item 2): expenses against its budget lines,
-- posts bought (岗位购买) and the staff filling them; and links between organisations, which make
-- an evaluator of one side conflicted on the other's contracts.

-- An expense is never edited: a wrong one is voided with a reason and entered again. The budget
-- line's spent_fen is the sum of its expenses not voided, kept in the same transaction.
CREATE TABLE contract_expenses (
    id           TEXT PRIMARY KEY,
    contract_id  TEXT NOT NULL REFERENCES contracts(id),
    budget_seq   BIGINT NOT NULL,
    spent_on     TEXT NOT NULL,
    amount_fen   BIGINT NOT NULL CHECK (amount_fen > 0),
    description  TEXT NOT NULL,
    voucher      TEXT NOT NULL DEFAULT '',
    recorded_by  TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    voided_by    TEXT,
    voided_at    BIGINT,
    void_reason  TEXT,
    FOREIGN KEY (contract_id, budget_seq) REFERENCES contract_budget_lines(contract_id, seq)
);
CREATE INDEX contract_expenses_contract ON contract_expenses(contract_id, spent_on);

-- A post the contract buys: its title, the station it serves (one of the contract's), how many
-- people and what a post costs a month.
CREATE TABLE contract_positions (
    id          TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    seq         BIGINT NOT NULL,
    title       TEXT NOT NULL,
    station_id  TEXT REFERENCES stations(id),
    headcount   BIGINT NOT NULL CHECK (headcount BETWEEN 1 AND 100),
    monthly_fen BIGINT NOT NULL CHECK (monthly_fen >= 0),
    created_at  BIGINT NOT NULL,
    UNIQUE (contract_id, seq)
);

-- A staff record holding a post from a date; ended (not deleted) when they leave it.
CREATE TABLE contract_position_fills (
    id          TEXT PRIMARY KEY,
    position_id TEXT NOT NULL REFERENCES contract_positions(id),
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    staff_id    TEXT NOT NULL REFERENCES staff(id),
    from_date   TEXT NOT NULL,
    to_date     TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX contract_position_fills_position ON contract_position_fills(position_id, to_date);
CREATE INDEX contract_position_fills_staff ON contract_position_fills(staff_id);

-- Organisations tied to each other (same legal person, parent and subsidiary, shared managers …),
-- stored once: the id smaller byte by byte first (the store orders them; no CHECK, since a
-- database collation may order ids otherwise).
CREATE TABLE organization_links (
    org_a      TEXT NOT NULL REFERENCES organizations(id),
    org_b      TEXT NOT NULL REFERENCES organizations(id),
    kind       TEXT NOT NULL CHECK (kind IN ('same_legal_person','parent_subsidiary','shared_management','other')),
    note       TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_a, org_b)
);
CREATE INDEX organization_links_b ON organization_links(org_b);
