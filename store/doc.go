// Package store is mfabot's embedded database: a single bbolt file that
// holds every incident, the detection engine's memory (detect.State), an
// append-only, hash-chained audit log and the input sources' checkpoints.
//
// Only one process may open the file at a time; a second Open waits at most
// Options.Timeout for the file lock and then fails with an error wrapping
// ErrLocked. All access goes through Store.View and Store.Update, whose *Tx
// implements detect.State, so that one detection step (dedupe, incident
// update, audit entry, checkpoint) commits or rolls back as a whole.
//
// # Schema, version 2
//
// Every name below is a top-level bucket unless indented under another.
// Byte strings are written as in Go; "+" concatenates; <t> is an 8-byte
// time (see Encodings).
//
//	meta
//	│   "schema_version" -> uint64, 8 bytes big-endian (currently 2)
//	│
//	incidents                    (bucket sequence n gives id "INC-<n>")
//	│   <id>                     -> JSON incident.Incident
//	│
//	incidents_by_first_seen
//	│   <t FirstSeen> + <id>     -> empty
//	│
//	subjects
//	│   <subject key>            -> <id> of the subject's latest incident
//	│
//	dedupe
//	│   <account> 0x00 <event id> -> <t event time>
//	│
//	dedupe_by_time
//	│   <t event time> + <account> 0x00 <event id> -> empty
//	│
//	mfa_logins
//	│   <subject key>/           (nested bucket, one per subject)
//	│       <t success time>     -> empty
//	│
//	ip_targets
//	│   <account> 0x00 <ip> 0x00 <target> -> JSON detect.IPTarget
//	│
//	audit                        (bucket sequence is the last seq handed out)
//	│   <seq, uint64 8 bytes big-endian> -> JSON AuditEntry
//	│
//	checkpoints
//	│   <source name>            -> opaque bytes owned by the source
//	│
//	alerts                       (version 2)
//	│   <id>                     -> JSON incident.Alert: the Slack side
//	│
//	alerts_by_ts                 (version 2)
//	│   <channel> 0x00 <ts>      -> <id> whose alert or reset prompt it is
//	│
//	dirty                        (version 2)
//	│   <id>                     -> <t> from when its messages need syncing
//	│
//	thread_outbox                (version 2; bucket sequence orders messages)
//	│   <id> 0x00 <seq, 8 bytes> -> JSON incident.ThreadMessage to post
//	│
//	audit_by_incident            (version 2)
//	    <id> 0x00 <seq, 8 bytes> -> empty; an index of audit by incident
//
// Version 1 had the buckets up to checkpoints; migrating to version 2 adds
// the rest and indexes the existing audit entries by incident.
//
// # Encodings
//
// A time <t> is its Unix time in nanoseconds as an int64 with the sign bit
// flipped, written big-endian in 8 bytes, so that byte order is time order
// (before 1970 too); times outside the int64 range (years before 1678 or
// after 2262, including the zero time.Time) are clamped to its ends. Times
// read back from keys are in UTC.
//
// Subject keys are incident.Subject.Key. Account ids and source addresses
// may not contain a 0x00 byte, which separates key parts; the last part of a
// key (event id, target) may hold any bytes.
//
// # Invariants
//
// incidents_by_first_seen holds exactly one key per incident, built from its
// current FirstSeen; PutIncident moves the key when FirstSeen changes.
// subjects names only stored incidents of that subject. dedupe and
// dedupe_by_time hold the same (account, event id) pairs with the same time.
// Store.Check verifies these along with bbolt's own page-level checks.
//
// # Audit chain
//
// Audit entries are numbered 1, 2, 3... without gaps. Each entry's PrevHash
// is the Hash of the entry before it ("" for entry 1) and its Hash is the
// hex SHA-256 of a length-prefixed encoding of all its other fields (see
// AuditEntry). Store.VerifyAudit walks the chain and reports the first entry
// that was altered, removed or moved. The chain makes edits evident; it does
// not stop someone who can rewrite the whole file from recomputing every
// hash, so publish the latest Hash elsewhere when that matters.
//
// # Migrations
//
// Open runs, in one Update transaction, every migration step from the
// file's schema version (0 for a new or empty file) up to SchemaVersion and
// then records SchemaVersion in meta. A file with a newer version is refused
// with ErrSchemaTooNew; a file that holds buckets but no version is refused
// as not an mfabot store. A new schema version adds a step to migrations and
// updates the drawing above.
//
// # Retention
//
// Tx.Prune drops dedupe keys older than Options.DedupeRetention (at least
// 48h, so a redelivered CloudTrail event is never counted twice), MFA
// successes older than Options.LoginRetention and IP targets last touched
// before Options.IPRetention. Incidents, subjects, the audit log and
// checkpoints are never pruned.
package store
