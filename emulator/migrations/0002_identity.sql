-- Schema version 2: the sign-in authority (domains, users, roles, app registrations, the signing
-- key, and the short-lived grants it hands out) and the audit log of policy changes.
--
-- Secrets (authorization codes, device codes, refresh tokens, client secrets) are never stored:
-- only their SHA-256, so the database cannot leak a usable credential. Times the authority
-- compares are Unix milliseconds; the audit log keeps RFC 3339 UTC text for people.

-- A tenant's domains; the first one seeded is its initial `*.onmicrosoft.com` domain.
CREATE TABLE tenant_domains (
    domain    TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    tenant_id TEXT NOT NULL COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE
) STRICT;

CREATE TABLE users (
    oid          TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    tenant_id    TEXT NOT NULL COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE,
    upn          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL
) STRICT;

-- The Entra role template ids of a user's directory roles.
CREATE TABLE user_roles (
    user_oid         TEXT NOT NULL COLLATE NOCASE REFERENCES users (oid) ON DELETE CASCADE,
    role_template_id TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (user_oid, role_template_id)
) STRICT;

-- App registrations usable in every tenant; a NULL secret means a public client.
CREATE TABLE app_registrations (
    client_id     TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    display_name  TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    secret_sha256 TEXT
) STRICT;

-- The key that signs tokens (PKCS#1 DER); the newest one signs.
CREATE TABLE signing_keys (
    kid             TEXT NOT NULL PRIMARY KEY,
    private_key_der BLOB NOT NULL,
    created_at_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE authorization_codes (
    code_sha256    TEXT NOT NULL PRIMARY KEY,
    tenant_id      TEXT NOT NULL COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE,
    user_oid       TEXT NOT NULL COLLATE NOCASE REFERENCES users (oid) ON DELETE CASCADE,
    client_id      TEXT NOT NULL COLLATE NOCASE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    expires_at_ms  INTEGER NOT NULL,
    redeemed_at_ms INTEGER
) STRICT;

CREATE TABLE device_codes (
    device_code_sha256 TEXT NOT NULL PRIMARY KEY,
    user_code          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    -- The tenant the flow was started in; NULL for `organizations`/`common` (any user).
    tenant_id          TEXT COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE,
    client_id          TEXT NOT NULL COLLATE NOCASE,
    scope              TEXT NOT NULL,
    interval_s         INTEGER NOT NULL,
    expires_at_ms      INTEGER NOT NULL,
    last_poll_at_ms    INTEGER,
    status             TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
    user_oid           TEXT COLLATE NOCASE REFERENCES users (oid) ON DELETE CASCADE
) STRICT;

CREATE TABLE refresh_tokens (
    token_sha256   TEXT NOT NULL PRIMARY KEY,
    tenant_id      TEXT NOT NULL COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE,
    user_oid       TEXT NOT NULL COLLATE NOCASE REFERENCES users (oid) ON DELETE CASCADE,
    client_id      TEXT NOT NULL COLLATE NOCASE,
    scope          TEXT NOT NULL,
    expires_at_ms  INTEGER NOT NULL,
    -- Set when the token was exchanged for a new one; it never works again.
    redeemed_at_ms INTEGER
) STRICT;

-- Every accepted policy write, for the admin page.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    tenant_id      TEXT NOT NULL COLLATE NOCASE,
    actor_upn      TEXT NOT NULL,
    changed_at     TEXT NOT NULL,
    policy_id      TEXT NOT NULL,
    item_kind      TEXT NOT NULL CHECK (item_kind IN ('product', 'offerType')),
    item_id        TEXT NOT NULL,
    old_value      TEXT NOT NULL,
    new_value      TEXT NOT NULL,
    correlation_id TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_by_tenant ON audit_log (tenant_id, id);
