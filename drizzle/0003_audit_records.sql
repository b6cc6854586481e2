-- CONTRACT §7 (amended): one audit event per disclosure, listing the records it concerns.
-- Events written before keep their one record in record_type, record_id, fields and agreements
-- with records NULL, and verify as they were written.
ALTER TABLE "audit_events" ADD COLUMN "records" jsonb;
--> statement-breakpoint
-- The record ids an event concerns, of either shape, so that filtering the trail by a record id
-- uses one index (GIN over a small array of strings, cheap to maintain on append).
CREATE OR REPLACE FUNCTION accord_audit_record_ids(records jsonb, record_id text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN records IS NOT NULL THEN jsonb_path_query_array(records, '$[*].recordId')
    WHEN record_id IS NOT NULL THEN jsonb_build_array(record_id)
    ELSE '[]'::jsonb
  END
$$;
--> statement-breakpoint
CREATE INDEX "audit_events_record_ids_idx" ON "audit_events" USING gin (accord_audit_record_ids("records", "record_id"));
--> statement-breakpoint
-- Appends events given as their canonical JSON (the exact object hashed, src/audit/chain.ts)
-- plus prevHash and hash, so the writer serialises each event once: the same text is hashed and
-- sent. The record columns of the earlier shape stay empty.
-- plpgsql rather than SQL so that the INSERT's plan is cached for the session, not made per call.
CREATE OR REPLACE FUNCTION accord_append_events(events jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_events (seq, id, at, request_id, actor_org, actor_user, actor_roles, purpose, case_ref, action,
    owner_org, record_type, record_id, nhs_number, fields, agreements, outcome, operation_name, query_hash,
    sensitivity, details, prev_hash, hash, records)
  SELECT (e->>'seq')::bigint, (e->>'id')::uuid, (e->>'at')::timestamptz, e->>'requestId', e->>'actorOrg', e->>'actorUser',
    e->'actorRoles', e->>'purpose', e->>'caseRef', e->>'action', e->>'ownerOrg', NULL, NULL, e->>'nhsNumber',
    '[]'::jsonb, '[]'::jsonb, e->>'outcome', e->>'operationName', e->>'queryHash', e->>'sensitivity',
    nullif(e->'details', 'null'::jsonb), e->>'prevHash', e->>'hash', e->'records'
  FROM jsonb_array_elements(events) AS e;
END;
$$;
--> statement-breakpoint
-- One round trip per batch of concurrent requests (src/audit/audit-writer.ts): under the chain's
-- advisory lock, check that
--   * the chain head is the one the writer hashed the batch's events onto,
--   * every request's agreement and organisation generations are still current (a revocation or
--     a key change made on any instance holds at the next request),
--   * no request's token id (iss, jti) has been claimed already (single use, CONTRACT §2),
-- and only then claim the token ids and append the events, all in this one statement's
-- transaction. When any check fails nothing is written and the function returns what failed
-- (the true head, the stale and the replayed requests) so the writer can drop or re-run those
-- requests and retry the rest. The lock key is auditChainLockKey ("audit" in ASCII), the same one
-- a write transaction takes to append its own events.
-- enable_seqscan is off inside: plpgsql caches each statement's plan for the session, and a plan
-- made while audit_events or token_replays were small (a new hub, a bench) scans the whole table,
-- every call, ever after as the tables grow. Each statement here has an index to use (the
-- primary keys of audit_events, hub_state and token_replays).
CREATE OR REPLACE FUNCTION accord_commit(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
  head_seq bigint;
  head_hash text;
  agreements_gen bigint;
  organisations_gen bigint;
  stale jsonb;
  replayed jsonb;
  claim_count int;
  claimed int;
BEGIN
  PERFORM pg_advisory_xact_lock(418581342580);
  SELECT seq, hash INTO head_seq, head_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
  IF NOT FOUND THEN
    head_seq := 0;
    head_hash := repeat('0', 64);
  END IF;
  SELECT coalesce(max(generation) FILTER (WHERE key = 'agreements'), 0), coalesce(max(generation) FILTER (WHERE key = 'organisations'), 0)
    INTO agreements_gen, organisations_gen FROM hub_state WHERE key IN ('agreements', 'organisations');
  SELECT coalesce(jsonb_agg(DISTINCT (c->>'req')::int), '[]'::jsonb) INTO stale
    FROM jsonb_array_elements(coalesce(batch->'checks', '[]'::jsonb)) AS c
    WHERE (c->>'agreements')::bigint IS DISTINCT FROM coalesce(agreements_gen, 0)
       OR (c->>'organisations')::bigint IS DISTINCT FROM coalesce(organisations_gen, 0);
  SELECT coalesce(jsonb_agg(DISTINCT (c->>'req')::int), '[]'::jsonb) INTO replayed
    FROM jsonb_array_elements(coalesce(batch->'claims', '[]'::jsonb)) AS c
    JOIN token_replays AS t ON t.iss = c->>'iss' AND t.jti = c->>'jti' AND t.expires_at >= (batch->>'now')::timestamptz;
  IF head_seq <> (batch->'head'->>'seq')::bigint OR head_hash <> (batch->'head'->>'hash')
     OR stale <> '[]'::jsonb OR replayed <> '[]'::jsonb THEN
    RETURN jsonb_build_object(
      'status', 'retry',
      'head', jsonb_build_object('seq', head_seq, 'hash', head_hash),
      'generations', jsonb_build_object('agreements', coalesce(agreements_gen, 0), 'organisations', coalesce(organisations_gen, 0)),
      'stale', stale,
      'replayed', replayed);
  END IF;
  claim_count := jsonb_array_length(coalesce(batch->'claims', '[]'::jsonb));
  -- A row left by a token that has expired may be taken over: that token can no longer be
  -- accepted anyway.
  WITH won AS (
    INSERT INTO token_replays (iss, jti, expires_at)
    SELECT x.iss, x.jti, x.expires_at
      FROM jsonb_to_recordset(coalesce(batch->'claims', '[]'::jsonb)) AS x(iss text, jti text, expires_at timestamptz)
    ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at
      WHERE token_replays.expires_at < (batch->>'now')::timestamptz
    RETURNING 1)
  SELECT count(*) INTO claimed FROM won;
  IF claimed <> claim_count THEN
    -- Cannot happen under the lock unless a token id was claimed outside it; refuse the whole
    -- batch (the statement's transaction rolls back) rather than accept a replay.
    RAISE EXCEPTION 'accord_commit: a token id of the batch was claimed concurrently';
  END IF;
  IF jsonb_array_length(coalesce(batch->'events', '[]'::jsonb)) > 0 THEN
    PERFORM accord_append_events(batch->'events');
  END IF;
  RETURN jsonb_build_object('status', 'ok');
END;
$$;
