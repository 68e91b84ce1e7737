-- GitHub App installations, their repositories, and which projects follow them.

CREATE TABLE github_app_installations (
    id                       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Unknown until GitHub tells us (setup redirect or webhook).
    github_id                BIGINT UNIQUE,
    account_github_id        BIGINT,
    account_login            TEXT,
    account_type             TEXT,
    account_avatar_url       TEXT,
    sender_github_id         BIGINT,
    user_id                  BIGINT REFERENCES users (id) ON DELETE SET NULL,
    originating_project_id   BIGINT REFERENCES projects (id) ON DELETE SET NULL,
    origin                   TEXT NOT NULL CHECK (origin IN ('app', 'github')),
    state                    TEXT NOT NULL CHECK (state IN
                                 ('initiated_on_app', 'initiated_on_github', 'unmatched_user', 'processing', 'processed')),
    lifecycle                TEXT NOT NULL DEFAULT 'installed' CHECK (lifecycle IN ('installed', 'suspended', 'uninstalled')),
    -- GitHub's timestamp of the last lifecycle change applied: a late delivery
    -- of an older change does not undo a newer one.
    lifecycle_at             TIMESTAMPTZ,
    repository_selection     TEXT CHECK (repository_selection IN ('all', 'selected')),
    -- Progress of the repository listing ("Listing repositories (120 of 5,000)").
    repos_listed             INTEGER NOT NULL DEFAULT 0,
    repos_total              INTEGER,
    repos_synced_at          TIMESTAMPTZ,
    -- The last listing's failure, shown until a listing succeeds.
    sync_error               TEXT,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT installations_pending_has_user CHECK (state <> 'initiated_on_app' OR user_id IS NOT NULL)
);
-- At most one install started from forgelink and not yet heard of per person.
CREATE UNIQUE INDEX installations_one_pending_per_user ON github_app_installations (user_id)
    WHERE state = 'initiated_on_app' AND github_id IS NULL;
CREATE INDEX installations_user ON github_app_installations (user_id);
CREATE INDEX installations_sender ON github_app_installations (sender_github_id) WHERE user_id IS NULL;
CREATE INDEX installations_account ON github_app_installations (account_github_id);
CREATE TRIGGER github_app_installations_updated_at BEFORE UPDATE ON github_app_installations
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Which projects an installation's repositories are offered to.
CREATE TABLE project_github_installations (
    project_id        BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    installation_id   BIGINT NOT NULL REFERENCES github_app_installations (id) ON DELETE CASCADE,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, installation_id)
);
CREATE INDEX project_github_installations_installation ON project_github_installations (installation_id);

-- Installation access tokens (1 hour), encrypted like the users' tokens.
CREATE TABLE github_installation_tokens (
    installation_github_id   BIGINT PRIMARY KEY,
    token                    BYTEA NOT NULL,
    expires_at               TIMESTAMPTZ NOT NULL,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Keyed by GitHub's id, never by name: repositories are renamed and transferred.
CREATE TABLE github_repos (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    github_id         BIGINT NOT NULL UNIQUE,
    owner_login       TEXT NOT NULL,
    name              TEXT NOT NULL,
    full_name         TEXT NOT NULL,
    private           BOOLEAN NOT NULL DEFAULT false,
    archived          BOOLEAN NOT NULL DEFAULT false,
    -- NULL once the repository left every installation (removed, deleted, uninstalled).
    installation_id   BIGINT REFERENCES github_app_installations (id) ON DELETE SET NULL,
    deleted_at        TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX github_repos_installation ON github_repos (installation_id, lower(full_name));
CREATE TRIGGER github_repos_updated_at BEFORE UPDATE ON github_repos FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A project's choice to follow a repository; kept (as history) when the
-- repository becomes unavailable, so nothing is lost silently.
CREATE TABLE project_github_repos (
    project_id       BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    github_repo_id   BIGINT NOT NULL REFERENCES github_repos (id) ON DELETE CASCADE,
    following        BOOLEAN NOT NULL DEFAULT true,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, github_repo_id)
);
CREATE INDEX project_github_repos_repo ON project_github_repos (github_repo_id);
CREATE TRIGGER project_github_repos_updated_at BEFORE UPDATE ON project_github_repos
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Open integrations tabs follow these changes live, whichever instance made them.
CREATE FUNCTION notify_integrations_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('github_integrations', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER github_app_installations_notify AFTER INSERT OR UPDATE OR DELETE ON github_app_installations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_integrations_changed();
CREATE TRIGGER project_github_installations_notify AFTER INSERT OR UPDATE OR DELETE ON project_github_installations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_integrations_changed();
CREATE TRIGGER github_repos_notify AFTER INSERT OR UPDATE OR DELETE ON github_repos
    FOR EACH STATEMENT EXECUTE FUNCTION notify_integrations_changed();
CREATE TRIGGER project_github_repos_notify AFTER INSERT OR UPDATE OR DELETE ON project_github_repos
    FOR EACH STATEMENT EXECUTE FUNCTION notify_integrations_changed();
