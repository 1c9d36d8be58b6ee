-- Add-Widget Clarifier conversations, so a page reload picks up where the user left off.
-- `messages` is the transcript ([{role, text, at, ...}]), `draft` what has been understood so far,
-- `spec` the last widget spec that passed validation (null until one has).
CREATE TABLE clarifier_conversations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  source text NOT NULL CHECK (source IN ('bedrock', 'template')),
  messages jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(messages) = 'array'),
  draft jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(draft) = 'object'),
  spec jsonb CHECK (spec IS NULL OR jsonb_typeof(spec) = 'object'),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'complete')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clarifier_conversations_user_idx ON clarifier_conversations (user_id, updated_at DESC);
