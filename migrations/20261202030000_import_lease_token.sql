-- The holder of an import's lease: every write of an import names it, so a
-- reader whose lease ran out (a page slower than the lease) and was taken over
-- changes nothing (its counts would double, its end overwrite the other's).
ALTER TABLE github_repo_imports ADD COLUMN lease_token UUID;
