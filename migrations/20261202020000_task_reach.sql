-- Whether an installation attached to the project reaches the repository now
-- (it is in the installation, which is not uninstalled): a private
-- repository's tasks are shown to the project's owner only while this holds,
-- since the mirror is shared and other projects may keep it up to date.
CREATE FUNCTION project_reaches_repo(project_id BIGINT, repo_installation_id BIGINT) RETURNS boolean AS $$
    SELECT EXISTS (
        SELECT 1 FROM project_github_installations a
        JOIN github_app_installations i ON i.id = a.installation_id
        WHERE a.project_id = $1 AND a.installation_id = $2 AND i.lifecycle <> 'uninstalled')
$$ LANGUAGE sql STABLE;

-- The Tasks tab of a project following several repositories reads the newest
-- activity across them.
CREATE INDEX tasks_recent ON tasks (github_updated_at DESC, id DESC) WHERE deleted_at IS NULL;
