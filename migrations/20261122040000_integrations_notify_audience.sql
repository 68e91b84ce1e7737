-- Live updates for the people concerned only: a change to installations,
-- repositories or follows NOTIFYs `github_integrations` with `u<user id>` for
-- each person whose integrations tabs show it (the installation's person,
-- whoever it is installed by or on, the owners of projects it is attached to),
-- once per statement and person however many rows changed.

DROP TRIGGER github_app_installations_notify ON github_app_installations;
DROP TRIGGER project_github_installations_notify ON project_github_installations;
DROP TRIGGER github_repos_notify ON github_repos;
DROP TRIGGER project_github_repos_notify ON project_github_repos;
DROP FUNCTION notify_integrations_changed();

-- Who sees these installations.
CREATE FUNCTION integration_audience(installation_ids BIGINT[]) RETURNS SETOF BIGINT AS $$
    SELECT i.user_id FROM github_app_installations i WHERE i.id = ANY(installation_ids) AND i.user_id IS NOT NULL
    UNION
    SELECT u.id FROM github_app_installations i
    JOIN users u ON u.github_id = i.sender_github_id OR u.github_id = i.account_github_id
    WHERE i.id = ANY(installation_ids)
    UNION
    SELECT p.owner_id FROM project_github_installations a JOIN projects p ON p.id = a.project_id
    WHERE a.installation_id = ANY(installation_ids)
$$ LANGUAGE sql STABLE;

CREATE FUNCTION notify_audience(user_ids BIGINT[]) RETURNS void AS $$
    SELECT pg_notify('github_integrations', 'u' || u) FROM (SELECT DISTINCT unnest(user_ids) AS u) x WHERE u IS NOT NULL
$$ LANGUAGE sql;

-- Each function reads the statement's rows as the transition table `changed`.
CREATE FUNCTION notify_installations_changed() RETURNS trigger AS $$
BEGIN
    PERFORM notify_audience(ARRAY(
        SELECT user_id FROM changed
        UNION SELECT integration_audience(ARRAY(SELECT id FROM changed))));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION notify_repos_changed() RETURNS trigger AS $$
BEGIN
    PERFORM notify_audience(ARRAY(SELECT integration_audience(ARRAY(SELECT DISTINCT installation_id FROM changed))));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION notify_attachments_changed() RETURNS trigger AS $$
BEGIN
    PERFORM notify_audience(ARRAY(
        SELECT p.owner_id FROM projects p WHERE p.id IN (SELECT project_id FROM changed)
        UNION SELECT integration_audience(ARRAY(SELECT installation_id FROM changed))));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION notify_follows_changed() RETURNS trigger AS $$
BEGIN
    PERFORM notify_audience(ARRAY(SELECT p.owner_id FROM projects p WHERE p.id IN (SELECT project_id FROM changed)));
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- A trigger with a transition table takes one event: three each.
CREATE TRIGGER installations_inserted AFTER INSERT ON github_app_installations
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_installations_changed();
CREATE TRIGGER installations_updated AFTER UPDATE ON github_app_installations
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_installations_changed();
CREATE TRIGGER installations_deleted AFTER DELETE ON github_app_installations
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_installations_changed();

CREATE TRIGGER repos_inserted AFTER INSERT ON github_repos
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_repos_changed();
-- An update can move repositories out of an installation: the old rows name it.
CREATE TRIGGER repos_updated AFTER UPDATE ON github_repos
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_repos_changed();
CREATE TRIGGER repos_updated_into AFTER UPDATE ON github_repos
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_repos_changed();
CREATE TRIGGER repos_deleted AFTER DELETE ON github_repos
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_repos_changed();

CREATE TRIGGER attachments_inserted AFTER INSERT ON project_github_installations
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_attachments_changed();
CREATE TRIGGER attachments_deleted AFTER DELETE ON project_github_installations
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_attachments_changed();

CREATE TRIGGER follows_inserted AFTER INSERT ON project_github_repos
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_follows_changed();
CREATE TRIGGER follows_updated AFTER UPDATE ON project_github_repos
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_follows_changed();
CREATE TRIGGER follows_deleted AFTER DELETE ON project_github_repos
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION notify_follows_changed();
