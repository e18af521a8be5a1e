-- One table for the background jobs of every kind (CMEK rotation, the MPC key lifecycle), run by
-- jobs/job-runner.ts. The CMEK rotation jobs move here from their own table.

CREATE TABLE jobs (
  id UUID PRIMARY KEY,
  vault_id UUID NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  -- What the job needs to run, never key material (CMEK keys live only in the memory of the process running it).
  params JSONB NOT NULL DEFAULT '{}',
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  total INTEGER NOT NULL DEFAULT 0,
  processed INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  -- Who started or last resumed it: the actor of its end event in the audit log.
  org_id UUID NOT NULL,
  actor_id UUID NOT NULL,
  actor_type TEXT NOT NULL,
  -- The instance that last claimed it; whether that runner is alive is told by an advisory lock, not by this.
  runner TEXT,
  -- Touched after every batch.
  heartbeat_at TIMESTAMPTZ,
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX jobs_vault ON jobs (vault_id, created_at DESC);
CREATE INDEX jobs_unfinished ON jobs (created_at) WHERE status IN ('pending', 'running');

INSERT INTO jobs (id, vault_id, kind, params, status, total, processed, error, org_id, actor_id, actor_type, heartbeat_at, started_at, completed_at, created_at)
SELECT j.id, j.vault_id, 'cmek_rotate', jsonb_build_object('old_fingerprint', j.old_fingerprint, 'new_fingerprint', j.new_fingerprint),
       j.status, j.total_secrets, j.processed, j.error, v.org_id, v.created_by, v.created_by_type, j.heartbeat_at, j.started_at, j.completed_at, j.created_at
  FROM cmek_rotation_jobs j JOIN vaults v ON v.id = j.vault_id;

DROP TABLE cmek_rotation_jobs;
