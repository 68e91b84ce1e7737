-- Every webhook delivery GitHub sends, stored before it is acknowledged, then
-- processed by the workers (see src/server/webhooks/).

CREATE TABLE github_events (
    id                      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id             TEXT NOT NULL,                 -- X-GitHub-Delivery, kept on redelivery
    hook_id                 BIGINT NOT NULL DEFAULT 0,     -- X-GitHub-Hook-ID (0 when absent)
    event                   TEXT NOT NULL,                 -- X-GitHub-Event
    action                  TEXT,
    installation_github_id  BIGINT,
    -- lz4: compressing payloads (often 10 KB and more) with the default pglz costs
    -- more CPU than the rest of storing a delivery.
    payload                 JSONB COMPRESSION lz4 NOT NULL,
    -- When it happened on GitHub (from the payload), for applying events in GitHub's order.
    occurred_at             TIMESTAMPTZ NOT NULL,
    -- Events with the same key are applied one at a time, in occurred_at order
    -- (an installation's lifecycle, one issue's history); NULL: no order needed.
    ordering_key            TEXT,
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

-- What the workers look for: per ordering key, its earliest pending event (a
-- loose index scan over the keys), and pending events that need no order.
CREATE INDEX github_events_pending_by_key ON github_events (ordering_key, occurred_at, id)
    WHERE status IN ('unprocessed', 'processing', 'errored') AND ordering_key IS NOT NULL;
CREATE INDEX github_events_pending_unordered ON github_events (occurred_at, id)
    WHERE status IN ('unprocessed', 'processing', 'errored') AND ordering_key IS NULL;
