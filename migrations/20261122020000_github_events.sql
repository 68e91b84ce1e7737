-- Every webhook delivery GitHub sends, stored before it is acknowledged, then
-- processed by the workers (see src/server/webhooks/).

CREATE TABLE github_events (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id             TEXT NOT NULL,                 -- X-GitHub-Delivery, kept on redelivery
    hook_id                 BIGINT NOT NULL DEFAULT 0,     -- X-GitHub-Hook-ID (0 when absent)
    event                   TEXT NOT NULL,                 -- X-GitHub-Event
    action                  TEXT,
    installation_github_id  BIGINT,
    payload                 JSONB NOT NULL,
    -- When it happened on GitHub (from the payload), for applying events in GitHub's order.
    occurred_at             TIMESTAMPTZ NOT NULL,
    status                  TEXT NOT NULL DEFAULT 'unprocessed'
                            CHECK (status IN ('unprocessed', 'processing', 'processed', 'errored', 'ignored', 'unhandled')),
    attempts                INTEGER NOT NULL DEFAULT 0,
    next_attempt_at         TIMESTAMPTZ,                   -- when an errored event is tried again; NULL: never
    -- The claim of the worker processing it; another may claim it once the lease ends.
    claim_token             UUID,
    locked_until            TIMESTAMPTZ,
    failure_reason          TEXT,
    error                   TEXT,
    received_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at            TIMESTAMPTZ,
    CONSTRAINT github_events_delivery UNIQUE (delivery_id, hook_id)
);

-- What the workers look for: work that is due, oldest first per installation.
CREATE INDEX github_events_pending ON github_events (installation_github_id, occurred_at, id)
    WHERE status IN ('unprocessed', 'processing', 'errored');
CREATE INDEX github_events_log ON github_events (received_at DESC);
