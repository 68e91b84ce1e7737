-- Each followed repository's import and periodic re-read from GitHub: where it
-- stands, and how far it got (the watermarks are saved after every page, so a
-- crash, a restart or an unfollow and re-follow goes on from there).
CREATE TABLE github_repo_imports (
    github_repo_id      BIGINT PRIMARY KEY REFERENCES github_repos (id) ON DELETE CASCADE,
    -- `importing` (issues, then comments), `paused` (until resume_at: a rate
    -- limit, GitHub not answering), `failed` (reason; waits for Retry), `up_to_date`.
    state               TEXT NOT NULL DEFAULT 'importing'
                        CHECK (state IN ('importing', 'paused', 'failed', 'up_to_date')),
    phase               TEXT NOT NULL DEFAULT 'issues' CHECK (phase IN ('issues', 'comments')),
    -- GitHub's updated_at of the last issue and comment stored from the lists.
    issues_since        TIMESTAMPTZ,
    comments_since      TIMESTAMPTZ,
    -- The first page's ETag of each list as last read: a re-read that finds
    -- nothing new is a 304, which costs no rate limit.
    issues_etag         TEXT,
    comments_etag       TEXT,
    issues_read         INTEGER NOT NULL DEFAULT 0,
    comments_read       INTEGER NOT NULL DEFAULT 0,
    reason              TEXT,
    resume_at           TIMESTAMPTZ,
    -- When the last complete read ended (the next re-read is due an interval after).
    synced_at           TIMESTAMPTZ,
    -- One reader at a time, across instances; a reader that dies lets go when it runs out.
    lease_until         TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER github_repo_imports_updated_at BEFORE UPDATE ON github_repo_imports
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Every way of following a repository (the tab, the API, an install that
-- chose repositories) starts its import; a re-follow goes on where it was,
-- and one that had failed is tried again.
CREATE FUNCTION import_followed_repo() RETURNS trigger AS $$
BEGIN
    INSERT INTO github_repo_imports (github_repo_id) VALUES (NEW.github_repo_id)
    ON CONFLICT (github_repo_id) DO UPDATE SET state = 'importing', reason = NULL
        WHERE github_repo_imports.state = 'failed';
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER follows_import AFTER INSERT OR UPDATE OF following ON project_github_repos
    FOR EACH ROW WHEN (NEW.following) EXECUTE FUNCTION import_followed_repo();

INSERT INTO github_repo_imports (github_repo_id)
SELECT DISTINCT github_repo_id FROM project_github_repos WHERE following ON CONFLICT DO NOTHING;

-- The integrations tabs of the projects following the repository show its progress live.
CREATE FUNCTION notify_imports_changed() RETURNS trigger AS $$
BEGIN
    PERFORM notify_audience(ARRAY(
        SELECT p.owner_id FROM project_github_repos f JOIN projects p ON p.id = f.project_id
        WHERE f.github_repo_id IN (SELECT github_repo_id FROM changed)));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER imports_inserted AFTER INSERT ON github_repo_imports
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_imports_changed();
CREATE TRIGGER imports_updated AFTER UPDATE ON github_repo_imports
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_imports_changed();
