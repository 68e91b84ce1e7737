-- People, their GitHub identity (tokens encrypted at rest), and their projects.

CREATE TABLE users (
    id                                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email                             TEXT NOT NULL,
    display_name                      TEXT NOT NULL,
    password_hash                     TEXT NOT NULL,
    is_admin                          BOOLEAN NOT NULL DEFAULT false,
    -- The linked GitHub account: one forgelink user per GitHub account.
    github_id                         BIGINT UNIQUE,
    github_login                      TEXT,
    github_avatar_url                 TEXT,
    -- XChaCha20-Poly1305 ciphertexts (see src/server/crypto.rs), never clear text.
    github_access_token               BYTEA,
    github_access_token_expires_at    TIMESTAMPTZ,
    github_refresh_token              BYTEA,
    github_refresh_token_expires_at   TIMESTAMPTZ,
    -- Set when a refresh failed: the person must connect again.
    github_reconnect_needed           BOOLEAN NOT NULL DEFAULT false,
    created_at                        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                        TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_email_trimmed CHECK (email = lower(btrim(email)) AND email <> ''),
    CONSTRAINT users_github_identity CHECK ((github_id IS NULL) = (github_login IS NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Failed sign-ins, to slow down guessing per account and per address.
CREATE TABLE sign_in_failures (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT NOT NULL,
    client_ip     TEXT NOT NULL,
    failed_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, failed_at);
CREATE INDEX sign_in_failures_ip ON sign_in_failures (client_ip, failed_at);

CREATE TABLE projects (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 60),
    name          TEXT NOT NULL CHECK (btrim(name) <> ''),
    description   TEXT NOT NULL DEFAULT '',
    owner_id      BIGINT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX projects_owner ON projects (owner_id);
CREATE TRIGGER projects_updated_at BEFORE UPDATE ON projects FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Sessions: tower-sessions' PostgreSQL store uses this table (its default names).
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE tower_sessions.session (
    id            TEXT PRIMARY KEY NOT NULL,
    data          BYTEA NOT NULL,
    expiry_date   TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_expiry ON tower_sessions.session (expiry_date);
