-- +goose Up
-- usage_records holds figures reported by machine jobs (Clerk M2M tokens),
-- e.g. a nightly count of API calls per organisation.
CREATE TABLE usage_records (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id bigint      NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    metric          text        NOT NULL CHECK (metric ~ '^[a-z][a-z0-9_]{0,62}$'),
    value           bigint      NOT NULL,
    machine_id      text        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_records_org ON usage_records (organization_id, metric, recorded_at DESC);

-- +goose Down
DROP TABLE usage_records;
