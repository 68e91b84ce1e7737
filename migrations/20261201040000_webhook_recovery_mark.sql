-- How far missed-delivery recovery has looked: every delivery attempt GitHub
-- lists with an id up to this one has been dealt with, so a run reads only
-- newer ones. One row.
CREATE TABLE webhook_recovery_mark (
    only_row      BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    seen_through  BIGINT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
