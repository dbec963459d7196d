-- Schema version 3: app registrations that sign in on their own (app-only tokens) as Microsoft
-- Entra ID has them: the application permissions granted on the licensing service, client
-- secrets (their SHA-256 only), certificates, federated credentials, managed identities, and the
-- tenants that consented to each app. Also the client assertions already used (their `jti`), so
-- a replayed assertion is refused, and who made an app-only policy change.

-- The home tenant of an app; NULL for the seeded apps, which every tenant may use (as before).
ALTER TABLE app_registrations ADD COLUMN home_tenant_id TEXT COLLATE NOCASE
    REFERENCES tenants (id) ON DELETE CASCADE;
-- 1 when tenants other than the home tenant may consent to the app.
ALTER TABLE app_registrations ADD COLUMN multi_tenant INTEGER NOT NULL DEFAULT 0
    CHECK (multi_tenant IN (0, 1));
-- 1 for a public client (no credential at all: an app on users' machines).
ALTER TABLE app_registrations ADD COLUMN public_client INTEGER NOT NULL DEFAULT 0
    CHECK (public_client IN (0, 1));
-- 'system' or 'user' when the app is a managed identity (at most one 'system' per database).
ALTER TABLE app_registrations ADD COLUMN managed_identity TEXT
    CHECK (managed_identity IN ('system', 'user'));
ALTER TABLE app_registrations ADD COLUMN created_at_ms INTEGER NOT NULL DEFAULT 0;

CREATE UNIQUE INDEX one_system_identity ON app_registrations (managed_identity)
    WHERE managed_identity = 'system';

-- A client secret's SHA-256 (hex); an app may have several (rotation).
CREATE TABLE app_secrets (
    id            INTEGER PRIMARY KEY,
    client_id     TEXT NOT NULL COLLATE NOCASE
        REFERENCES app_registrations (client_id) ON DELETE CASCADE,
    secret_sha256 TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;

-- The secrets of version 2 move here; the column goes (public clients are marked instead).
UPDATE app_registrations SET public_client = 1 WHERE secret_sha256 IS NULL;
INSERT INTO app_secrets (client_id, secret_sha256, created_at_ms)
    SELECT client_id, secret_sha256, 0 FROM app_registrations WHERE secret_sha256 IS NOT NULL;
ALTER TABLE app_registrations DROP COLUMN secret_sha256;

-- The application permissions of the licensing service granted to an app.
CREATE TABLE app_roles (
    client_id TEXT NOT NULL COLLATE NOCASE
        REFERENCES app_registrations (client_id) ON DELETE CASCADE,
    role      TEXT NOT NULL
        CHECK (role IN ('Policy.Read.AllowSelfServicePurchase',
                        'Policy.ReadWrite.AllowSelfServicePurchase')),
    PRIMARY KEY (client_id, role)
) STRICT;

-- A certificate credential: the certificate (DER) and its thumbprints (uppercase hex), by which
-- a client assertion's `x5t` (SHA-1) or `x5t#S256` (SHA-256) header names it.
CREATE TABLE app_certificates (
    client_id         TEXT NOT NULL COLLATE NOCASE
        REFERENCES app_registrations (client_id) ON DELETE CASCADE,
    sha1_thumbprint   TEXT NOT NULL,
    sha256_thumbprint TEXT NOT NULL,
    certificate_der   BLOB NOT NULL,
    PRIMARY KEY (client_id, sha256_thumbprint)
) STRICT;

-- A federated identity credential: tokens of `issuer` for `subject` and `audience` stand for the
-- app.
CREATE TABLE app_federated_credentials (
    id        INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL COLLATE NOCASE
        REFERENCES app_registrations (client_id) ON DELETE CASCADE,
    issuer    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    audience  TEXT NOT NULL,
    UNIQUE (client_id, issuer, subject)
) STRICT;

-- The tenants that consented to an app (its service principal there, whose object id is the
-- `oid` of the app's tokens in that tenant). The home tenant consents when the app is created.
CREATE TABLE app_consents (
    client_id            TEXT NOT NULL COLLATE NOCASE
        REFERENCES app_registrations (client_id) ON DELETE CASCADE,
    tenant_id            TEXT NOT NULL COLLATE NOCASE REFERENCES tenants (id) ON DELETE CASCADE,
    service_principal_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
    consented_at_ms      INTEGER NOT NULL,
    PRIMARY KEY (client_id, tenant_id)
) STRICT;

-- The `jti` of each client assertion used, until it expires: an assertion works once.
CREATE TABLE used_assertions (
    client_id     TEXT NOT NULL COLLATE NOCASE,
    jti           TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT;

-- The app id of an app-only change (the actor column then holds the app's display name).
ALTER TABLE audit_log ADD COLUMN actor_app_id TEXT;
