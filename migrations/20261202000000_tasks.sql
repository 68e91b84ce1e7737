-- Tasks: the issues and pull requests of repositories, with their comments,
-- stored once per GitHub object however many projects follow the repository.

-- The GitHub accounts that write them: a forgelink person wherever
-- users.github_id names the same account, so connecting GitHub later shows
-- their history as theirs with nothing rewritten.
CREATE TABLE github_identities (
    github_id    BIGINT PRIMARY KEY,
    login        TEXT NOT NULL,
    avatar_url   TEXT NOT NULL DEFAULT '',
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER github_identities_updated_at BEFORE UPDATE ON github_identities
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE tasks (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    github_repo_id      BIGINT NOT NULL REFERENCES github_repos (id) ON DELETE CASCADE,
    -- A pull request is an issue too, with an id of its own: issue events,
    -- comments and the issues list carry the issue's, pull_request events the
    -- pull request's. Either may come first; they meet at (repository,
    -- number), which GitHub never gives to another issue of the repository.
    issue_github_id     BIGINT UNIQUE,
    pull_github_id      BIGINT UNIQUE,
    number              INTEGER NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('issue', 'pull_request')),
    title               TEXT NOT NULL,
    body                TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    state_reason        TEXT,
    draft               BOOLEAN NOT NULL DEFAULT false,
    merged              BOOLEAN NOT NULL DEFAULT false,
    -- [{"name", "color"}] and [github id], as GitHub lists them.
    labels              JSONB NOT NULL DEFAULT '[]',
    assignees           JSONB NOT NULL DEFAULT '[]',
    author_github_id    BIGINT REFERENCES github_identities (github_id),
    html_url            TEXT NOT NULL,
    comment_count       INTEGER NOT NULL DEFAULT 0,
    opened_at           TIMESTAMPTZ NOT NULL,
    closed_at           TIMESTAMPTZ,
    -- GitHub's updated_at of what is stored: a change is applied only when newer.
    github_updated_at   TIMESTAMPTZ NOT NULL,
    -- A digest of what is stored: the same time with other content is re-read from GitHub.
    digest              TEXT NOT NULL,
    -- Tombstones: a late delivery does not bring a deleted or moved issue back.
    deleted_at          TIMESTAMPTZ,
    transferred_to      TEXT,
    search              TSVECTOR GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || body)) STORED,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (github_repo_id, number)
);
-- The Tasks tab: a project's repositories, newest activity first.
CREATE INDEX tasks_activity ON tasks (github_repo_id, github_updated_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX tasks_search ON tasks USING gin (search);
CREATE INDEX tasks_author ON tasks (author_github_id);
CREATE TRIGGER tasks_updated_at BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE task_comments (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    github_id           BIGINT NOT NULL UNIQUE,
    task_id             BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    author_github_id    BIGINT REFERENCES github_identities (github_id),
    body                TEXT NOT NULL,
    html_url            TEXT NOT NULL,
    commented_at        TIMESTAMPTZ NOT NULL,
    github_updated_at   TIMESTAMPTZ NOT NULL,
    digest              TEXT NOT NULL,
    deleted_at          TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX task_comments_task ON task_comments (task_id, commented_at, id);
CREATE TRIGGER task_comments_updated_at BEFORE UPDATE ON task_comments
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Open Tasks tabs and task pages follow changes live: `tasks` is notified
-- with `p<project id>` for each project showing a changed public task, and
-- `p<project id>:private` for a private one (heard by the project's owner only).
CREATE FUNCTION notify_tasks_of_repos(repo_ids BIGINT[]) RETURNS void AS $$
    SELECT pg_notify('tasks', 'p' || project_id || CASE WHEN private THEN ':private' ELSE '' END)
    FROM (SELECT DISTINCT f.project_id, r.private
          FROM github_repos r JOIN project_github_repos f ON f.github_repo_id = r.id
          WHERE r.id = ANY(repo_ids)) x
$$ LANGUAGE sql;

CREATE FUNCTION notify_tasks_changed() RETURNS trigger AS $$
BEGIN
    PERFORM notify_tasks_of_repos(ARRAY(SELECT DISTINCT github_repo_id FROM changed));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION notify_task_comments_changed() RETURNS trigger AS $$
BEGIN
    PERFORM notify_tasks_of_repos(ARRAY(
        SELECT DISTINCT t.github_repo_id FROM tasks t WHERE t.id IN (SELECT task_id FROM changed)));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER tasks_inserted AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_tasks_changed();
CREATE TRIGGER tasks_updated AFTER UPDATE ON tasks
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_tasks_changed();
CREATE TRIGGER task_comments_inserted AFTER INSERT ON task_comments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_task_comments_changed();
CREATE TRIGGER task_comments_updated AFTER UPDATE ON task_comments
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_task_comments_changed();
