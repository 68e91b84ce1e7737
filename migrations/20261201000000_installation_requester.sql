-- Who asked an organization owner to install the App (the `requester` of
-- `installation.created`): like its sender, they may link the installation.
ALTER TABLE github_app_installations ADD COLUMN requester_github_id BIGINT;
