// Package clerksync keeps the users, organizations, memberships and
// invitations tables in step with Clerk: it verifies Svix-signed webhook
// deliveries, applies each one in a single transaction, keeps a delivery log
// with replay, and reconciles drift against Clerk's Backend API.
//
// # Guarantees
//
// Every delivery is recorded in webhook_events keyed by its svix-id in the
// same transaction that applies it, so a redelivery (sequential or
// concurrent) is applied at most once. Upserts are keyed by Clerk id and
// guarded by Clerk's updated_at, so an older event never overwrites newer
// data (an equal updated_at is applied again, which is harmless and lets a
// replay repeat itself). Deletes are tombstones (deleted_at) and win over any
// later-arriving create or update of the same object, because Clerk never
// reuses ids; a membership that arrives after its user or organisation was
// deleted is stored as a tombstone too, so that any delivery order ends in
// the same tables as delivery in order.
//
// A membership that arrives before its user or organisation creates stub
// rows from the data embedded in the membership (public_user_data and
// organization). Stubs carry no Clerk updated_at, so the real user.created or
// organization.created always fills them in.
//
// # Deletion policy
//
// user.deleted tombstones the user and all of its memberships, and clears the
// personal data held on the row (email, first and last name, image URL and
// public metadata); only the Clerk id and timestamps remain, so that late
// events for the user are recognised and dropped. organization.deleted
// tombstones the organisation and all of its memberships; the organisation's
// name and slug are kept because org-scoped business data (projects, the
// audit log) still refers to it. Payloads in the delivery log are kept as
// received; prune old webhook_events rows if they must not outlive the user.
//
// # Faults
//
// Permanent faults (data that cannot be decoded, a missing data.id, data the
// database rejects as invalid) are recorded with status "failed" and answered
// with 2xx, so Svix does not retry them for a day; an administrator can fix
// the cause and replay the delivery. Transient faults (the database is down,
// a connection is killed, a deadlock) roll the whole transaction back,
// including the inbox row, and are answered with 5xx so Svix retries.
//
// # Identity seams
//
// This package is where the app assumes Clerk's webhooks and Backend API
// (internal/identity, docs/MIGRATION.md). Verifier checks Svix signatures
// (the webhook verification seam); ParseEvent and the per-type decoding of
// decode.go and apply.go are the event decoder, turning Clerk's payloads into
// upserts keyed by clerk_id; Backend and Reconcile read Clerk's Backend API
// (the directory seam). Another provider supplies its own verification and
// decoding onto the same tables, finding its ids through the
// external_identities table.
package clerksync
