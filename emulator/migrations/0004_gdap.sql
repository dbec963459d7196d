-- Schema version 4: granular delegated admin privileges (GDAP). A partner tenant's relationship
-- with a customer tenant grants directory roles in the customer for as long as it lasts; its
-- access assignment names the partner's users who hold those roles there. A partner user gets
-- tokens for a customer, and the licensing API serves them, only through an active relationship
-- (now before `expires_at_ms`). Removing a relationship deletes it (Partner Center's "terminate").

CREATE TABLE delegated_admin_relationships (
    id                 TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    display_name       TEXT NOT NULL,
    partner_tenant_id  TEXT NOT NULL COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE,
    customer_tenant_id TEXT NOT NULL COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE,
    created_at_ms      INTEGER NOT NULL,
    expires_at_ms      INTEGER NOT NULL,
    CHECK (partner_tenant_id <> customer_tenant_id)
) STRICT;

CREATE INDEX delegated_admin_by_customer
    ON delegated_admin_relationships (customer_tenant_id, partner_tenant_id);

-- The Entra role template ids a relationship grants.
CREATE TABLE delegated_admin_roles (
    relationship_id  TEXT NOT NULL COLLATE NOCASE
        REFERENCES delegated_admin_relationships (id) ON DELETE CASCADE,
    role_template_id TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (relationship_id, role_template_id)
) STRICT;

-- The partner users who hold the relationship's roles in the customer (Partner Center assigns
-- security groups; the emulator assigns users directly).
CREATE TABLE delegated_admin_access (
    relationship_id TEXT NOT NULL COLLATE NOCASE
        REFERENCES delegated_admin_relationships (id) ON DELETE CASCADE,
    user_oid        TEXT NOT NULL COLLATE NOCASE REFERENCES users (oid) ON DELETE CASCADE,
    PRIMARY KEY (relationship_id, user_oid)
) STRICT;

CREATE INDEX delegated_admin_access_by_user ON delegated_admin_access (user_oid);
