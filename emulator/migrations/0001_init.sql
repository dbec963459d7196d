-- Schema version 1: the service's catalog and each tenant's policy state.
--
-- Ids are compared case-insensitively (COLLATE NOCASE) wherever a client may type them.
-- The catalog (policies, products, product aliases, offer types) is the same for every tenant;
-- the values (a policy's default, a product's or an offer type's setting) belong to a tenant.

CREATE TABLE policies (
    id          TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    description TEXT NOT NULL
) STRICT;

CREATE TABLE products (
    id                           TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    name                         TEXT NOT NULL,
    -- 1 when the product offers a trial without a payment method, which is what makes the
    -- value OnlyTrialsWithoutPaymentMethod acceptable for it.
    trial_without_payment_method INTEGER NOT NULL CHECK (trial_without_payment_method IN (0, 1))
) STRICT;

-- Older product ids that were replaced by a current one; a request for an old id is served by
-- the product that replaced it.
CREATE TABLE product_aliases (
    old_id     TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    product_id TEXT NOT NULL COLLATE NOCASE REFERENCES products (id)
) STRICT;

CREATE TABLE offer_types (
    id   TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE tenants (
    id   TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE
) STRICT;

-- The policies a tenant sees, with the tenant's default value.
CREATE TABLE tenant_policies (
    tenant_id     TEXT NOT NULL COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE,
    policy_id     TEXT NOT NULL COLLATE NOCASE REFERENCES policies (id),
    default_value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, policy_id)
) STRICT;

CREATE TABLE product_policies (
    tenant_id    TEXT NOT NULL COLLATE NOCASE,
    policy_id    TEXT NOT NULL COLLATE NOCASE,
    product_id   TEXT NOT NULL COLLATE NOCASE REFERENCES products (id),
    policy_value TEXT NOT NULL
        CHECK (policy_value IN ('Enabled', 'Disabled', 'OnlyTrialsWithoutPaymentMethod')),
    PRIMARY KEY (tenant_id, policy_id, product_id),
    FOREIGN KEY (tenant_id, policy_id)
        REFERENCES tenant_policies (tenant_id, policy_id) ON DELETE CASCADE
) STRICT;

CREATE TABLE offer_type_policies (
    tenant_id     TEXT NOT NULL COLLATE NOCASE,
    policy_id     TEXT NOT NULL COLLATE NOCASE,
    offer_type_id TEXT NOT NULL COLLATE NOCASE REFERENCES offer_types (id),
    policy_value  TEXT NOT NULL CHECK (policy_value IN ('Enabled', 'Disabled')),
    PRIMARY KEY (tenant_id, policy_id, offer_type_id),
    FOREIGN KEY (tenant_id, policy_id)
        REFERENCES tenant_policies (tenant_id, policy_id) ON DELETE CASCADE
) STRICT;
