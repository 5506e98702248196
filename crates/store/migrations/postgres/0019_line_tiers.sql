-- (PostgreSQL) Contract lines carry their part of the contract (issue 14, 核心项目 / 基础项目), so a
-- delivery indicator can measure only the core or only the basic lines. Lines written before
-- are basic.
ALTER TABLE contract_lines ADD COLUMN tier TEXT NOT NULL DEFAULT 'basic' CHECK (tier IN ('core','basic'));
