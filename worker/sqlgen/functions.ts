/**
 * Functions a checked statement may not call, anywhere in it. Matching is case-insensitive, and a
 * `try_` prefix is looked through (`try_reflect`, `try_secret`).
 *
 * Built-in functions outside this list are allowed. Function names qualified with a schema or
 * catalog (`some_schema.fn(...)`) are always refused: built-ins are never qualified, so those can
 * only be user-defined functions whose bodies nobody here has read. An unqualified name resolves
 * to a built-in, a session temporary function (none exist: creating one needs a statement this
 * layer refuses) or a persisted function in the policy schema, which the dictionary's owners
 * control.
 *
 * Not listed on purpose: `url_decode`, `parse_url` and other pure string functions (no I/O);
 * `current_catalog`/`current_schema`/`version` (nothing secret); `assert_true`/`raise_error` (they
 * only fail the query); `aes_encrypt`/`aes_decrypt` (keys could only come from `secret()`, which
 * is listed). Heavy scalar expressions (`repeat`, `rpad` with a huge length) are bounded by the
 * warehouse's statement timeout, not here.
 */
const FORBIDDEN: ReadonlyMap<string, string> = new Map([
  // Arbitrary JVM method calls.
  ['reflect', 'calls arbitrary Java methods'],
  ['java_method', 'calls arbitrary Java methods'],
  // Credentials.
  ['secret', 'reads secrets'],
  ['list_secrets', 'lists secrets'],
  // Network and external services.
  ['http_request', 'makes outbound HTTP requests'],
  ['remote_query', 'queries external databases'],
  ['vector_search', 'queries a vector search index'],
  ['from_avro', 'may contact a schema registry'],
  ['to_avro', 'may contact a schema registry'],
  ['from_protobuf', 'may contact a schema registry'],
  ['to_protobuf', 'may contact a schema registry'],
  // Data outside the allowlisted tables: files, streams, change feeds, pipeline logs.
  ['cloud_files_state', 'reads Auto Loader state'],
  ['table_changes', 'reads any table named in a string'],
  ['event_log', 'reads pipeline event logs'],
  ['input_file_name', 'reveals storage paths'],
  ['input_file_block_start', 'reveals storage layout'],
  ['input_file_block_length', 'reveals storage layout'],
  // Identity of the warehouse principal: no analytical use, and a tile would publish it.
  ['current_user', 'reveals the identity the query runs as'],
  ['session_user', 'reveals the identity the query runs as'],
  ['user', 'reveals the identity the query runs as'],
  ['is_member', 'probes group membership'],
  ['is_account_group_member', 'probes group membership'],
  // Deliberate delays (not Databricks built-ins, but cheap to refuse if one ever appears).
  ['sleep', 'delays execution'],
  ['pg_sleep', 'delays execution'],
  ['benchmark', 'burns warehouse time'],
  // Row generators: the dictionary has no array or map columns, so these can only multiply rows
  // out of literals.
  ['explode', 'generates rows (no array columns exist to unnest)'],
  ['explode_outer', 'generates rows (no array columns exist to unnest)'],
  ['posexplode', 'generates rows (no array columns exist to unnest)'],
  ['posexplode_outer', 'generates rows (no array columns exist to unnest)'],
  ['inline', 'generates rows (no array columns exist to unnest)'],
  ['inline_outer', 'generates rows (no array columns exist to unnest)'],
  ['stack', 'generates rows'],
  ['sequence', 'builds arbitrarily large arrays'],
  ['range', 'generates rows'],
]);

const FORBIDDEN_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['ai_', 'calls AI model serving (cost, data egress)'],
  ['read_', 'reads files or streams outside the allowlisted tables'],
  ['xpath', 'parses XML documents (no XML data exists; external entity risk)'],
  ['from_xml', 'parses XML documents'],
  ['schema_of_xml', 'parses XML documents'],
];

/** Names that are also callable without parentheses (`SELECT current_user`). */
export const NILADIC_FORBIDDEN: ReadonlySet<string> = new Set(['current_user', 'session_user', 'user']);

function lookup(name: string): string | undefined {
  const exact = FORBIDDEN.get(name);
  if (exact) return exact;
  for (const [prefix, reason] of FORBIDDEN_PREFIXES) if (name.startsWith(prefix)) return reason;
  return undefined;
}

/** Why `name` may not be called, or undefined when it may. */
export function forbiddenFunctionReason(name: string): string | undefined {
  const lower = name.toLowerCase();
  return lookup(lower) ?? (lower.startsWith('try_') ? lookup(lower.slice(4)) : undefined);
}

/**
 * Functions an admin-written Postgres metric query may call: an allowlist, since Postgres ships
 * hundreds of functions that read files, sleep, lock, signal other sessions or change settings.
 * These are pure computations over the row: aggregates, window functions, arithmetic, dates,
 * strings, JSON field access. Anything else is refused at write time; the metric role
 * (POSTGRES_METRIC_ROLE) is the second wall at run time.
 */
const POSTGRES_ALLOWED: ReadonlySet<string> = new Set([
  // Aggregates.
  'count', 'sum', 'avg', 'min', 'max', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'percentile_cont', 'percentile_disc', 'mode',
  'corr', 'covar_pop', 'covar_samp',
  // Window functions.
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // Conditionals.
  'coalesce', 'nullif', 'greatest', 'least',
  // Arithmetic.
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sign', 'sqrt', 'cbrt', 'power', 'exp', 'ln', 'log', 'log10', 'mod', 'div', 'width_bucket',
  // Dates and times.
  'now', 'current_timestamp', 'current_date', 'current_time', 'localtimestamp', 'localtime', 'statement_timestamp', 'transaction_timestamp',
  'date_trunc', 'date_part', 'date_bin', 'age', 'make_date', 'make_time', 'make_timestamp', 'make_timestamptz', 'make_interval',
  'to_char', 'to_date', 'to_timestamp', 'to_number', 'timezone', 'justify_days', 'justify_hours', 'justify_interval', 'isfinite',
  // Strings.
  'length', 'char_length', 'character_length', 'lower', 'upper', 'initcap', 'trim', 'btrim', 'ltrim', 'rtrim', 'left', 'right',
  'substr', 'substring', 'position', 'strpos', 'replace', 'split_part', 'concat', 'concat_ws', 'starts_with', 'translate', 'reverse',
  // JSON fields (events.payload).
  'jsonb_extract_path_text', 'json_extract_path_text', 'jsonb_typeof', 'json_typeof', 'jsonb_array_length', 'json_array_length',
  // Arrays.
  'array_length', 'cardinality',
]);

/** Not on the allowlist anyway; named so the refusal says what the function would have done. */
const POSTGRES_FORBIDDEN: ReadonlyMap<string, string> = new Map([
  ['pg_sleep', 'delays execution'],
  ['pg_sleep_for', 'delays execution'],
  ['pg_sleep_until', 'delays execution'],
  ['set_config', 'changes session settings'],
  ['current_setting', 'reads server settings'],
  ['pg_terminate_backend', 'ends other sessions'],
  ['pg_cancel_backend', 'cancels other sessions’ queries'],
  ['pg_read_file', 'reads server files'],
  ['pg_read_binary_file', 'reads server files'],
  ['pg_ls_dir', 'lists server directories'],
  ['current_user', 'reveals the identity the query runs as'],
  ['session_user', 'reveals the identity the query runs as'],
  ['generate_series', 'generates rows'],
  ['unnest', 'generates rows'],
  ['repeat', 'builds arbitrarily large strings'],
  ['lpad', 'builds arbitrarily large strings'],
  ['rpad', 'builds arbitrarily large strings'],
]);

const POSTGRES_FORBIDDEN_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['pg_advisory', 'takes locks that outlive the query'],
  ['pg_try_advisory', 'takes locks that outlive the query'],
  ['pg_', 'reads or changes server state'],
  ['lo_', 'reads large objects'],
  ['dblink', 'connects to other databases'],
  ['txid_', 'reads transaction state'],
];

/** Why a Postgres metric query may not call `name`, or undefined when it may. */
export function postgresFunctionProblem(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (POSTGRES_ALLOWED.has(lower)) return undefined;
  const named = POSTGRES_FORBIDDEN.get(lower) ?? POSTGRES_FORBIDDEN_PREFIXES.find(([prefix]) => lower.startsWith(prefix))?.[1];
  return named ?? 'is not on the allowlist of functions metric queries may call';
}
