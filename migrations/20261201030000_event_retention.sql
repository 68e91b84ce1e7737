-- What the retention sweep looks for: finished events by age. Pending and
-- errored events are not in it (they are kept until handled).
CREATE INDEX github_events_finished_by_age ON github_events (received_at)
    WHERE status IN ('processed', 'ignored', 'unhandled');
