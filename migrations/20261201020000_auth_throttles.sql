-- Throttles for signing in and signing up, one row per key ('address:…',
-- 'account:…', 'device:…', 'signup:…'): attempts counted since the key was last
-- quiet, and when the last was let through. Counting and checking are one
-- statement, so parallel guesses cannot all pass. Replaces the failure log.
DROP TABLE sign_in_failures;
CREATE TABLE auth_throttles (
    key       TEXT PRIMARY KEY,
    attempts  INTEGER NOT NULL,
    last_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX auth_throttles_last_at ON auth_throttles (last_at);

-- Browsers that have signed in to an account (their cookie's token, hashed):
-- their own failures count against them, not the account's, so guessing from
-- elsewhere never locks the owner out.
CREATE TABLE sign_in_devices (
    token_hash    BYTEA PRIMARY KEY,
    email         TEXT NOT NULL,
    last_used_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_devices_last_used ON sign_in_devices (last_used_at);
