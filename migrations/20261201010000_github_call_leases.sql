-- One caller at a time for a GitHub call on a shared credential (minting an
-- installation token, spending a user's single-use refresh token), across
-- instances, without holding a connection while GitHub answers: a row claimed
-- until `until` (so a caller that dies lets go by itself).
CREATE TABLE github_call_leases (
    key     TEXT PRIMARY KEY,
    -- Names the claim, so a late release never ends someone else's.
    holder  UUID NOT NULL,
    until   TIMESTAMPTZ NOT NULL
);
