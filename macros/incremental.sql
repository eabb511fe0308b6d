{#-
    Incremental models recompute whole entities (a pull request, a repository's deployments, a device's page
    events), never patch rows: an entity is recomputed when any raw row it is built from was loaded after the
    model's last successful run. "After" is dlt's load id (`_dlt_load_id`, exposed by staging as `loaded_by`),
    which grows with every load; the newest load id a model has seen is kept in
    `intermediate.incremental_state` (one row per model, written by a post-hook), together with a fingerprint of
    the project's code, seeds and vars: when any of them changed (a person moved team in a seed, a var such as
    `production_pattern` changed, a model's SQL changed), the fingerprint no longer matches and every entity is
    recomputed. `yardstick nightly --full-refresh` (dbt's --full-refresh) rebuilds every table from scratch.
-#}

{#- The table that remembers, per incremental model, the newest load id it has processed. -#}
{% macro incremental_state_relation() -%}
    {{ return(api.Relation.create(database=this.database, schema=generate_schema_name('intermediate', none),
                                  identifier='incremental_state')) }}
{%- endmacro %}

{#- on-run-start: the state table exists before models run in parallel (two threads creating it would conflict). -#}
{% macro create_incremental_state() -%}
    {%- if target.type == 'duckdb' -%}
    {%- set state = api.Relation.create(database=target.database, schema=generate_schema_name('intermediate', none),
                                        identifier='incremental_state') -%}
    create schema if not exists {{ adapter.quote(state.database) }}.{{ adapter.quote(state.schema) }};
    create table if not exists {{ state }} (model varchar, max_load_id varchar, fingerprint varchar)
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- The vars any model reads (every var of dbt_project.yml; add a new one here): a change to one of them
    invalidates every incremental model. -#}
{% macro incremental_fingerprint_vars() -%}
    {{ return(['dora_report_year', 'production_pattern', 'deployment_pattern', 'rollback_pattern', 'revert_pattern',
               'hotfix_pattern', 'incident_attribution_window_hours', 'issue_key_pattern',
               'github_issue_ref_pattern', 'pr_size_buckets', 'goal_window_days', 'maturity_share', 'as_of_date',
               'session_inactivity_minutes', 'error_event_pattern', 'timing_properties', 'segment_dimensions',
               'product_services', 'release_impact_days', 'funnel_max_steps', 'predictability_sprints',
               'bug_issue_type_pattern', 'production_bug_pattern', 'link_coverage_warn_threshold',
               'expose_individuals', 'person_salt', 'ai_active_days_per_week', 'min_group_size',
               'copilot_agent_logins']) }}
{%- endmacro %}

{#- md5 of every model's and seed's checksum in this project and of the vars' values (dbt's graph has no macro
    checksums: after changing a macro, build with --full-refresh). -#}
{% macro incremental_fingerprint() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') -%}
        {%- if node.package_name == project_name and node.resource_type in ('model', 'seed') -%}
            {%- do parts.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in incremental_fingerprint_vars() -%}
        {%- do parts.append(name ~ '=' ~ tojson(var(name, none))) -%}
    {%- endfor -%}
    {%- do parts.extend(incremental_data_fingerprint()) -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}

{#- A model whose rows read a small dimension that its source reloads whole every sync (Jira's status list: a
    status moved to another category changes the category of every transition through it) names it in its
    config, `incremental_fingerprint_data={staging model: [columns]}`: those columns' values join the model's
    fingerprint, so a change recomputes every entity, as a seed change does; reloading the same values does not. -#}
{% macro incremental_data_fingerprint() -%}
    {%- set parts = [] -%}
    {%- set wanted = config.get('incremental_fingerprint_data') or {} -%}
    {%- for name in wanted | sort -%}
        {%- set relation = ref(name) -%}
        {%- set value = "concat_ws(chr(31), " ~ wanted[name] | join(', ') ~ ")" -%}
        {%- if load_relation(relation) is not none -%}
            {%- set found = run_query("select coalesce(md5(string_agg(" ~ value ~ ", chr(30) order by " ~ value
                                      ~ ")), '') from " ~ relation) -%}
            {%- do parts.append(name ~ '=' ~ found.rows[0][0]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}

{#- A SQL string literal: the newest load id this model processed, or '' (every entity) when the model is not
    built incrementally, has no state yet, or the project, its seeds or vars changed since. -#}
{% macro incremental_since() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return("''") }}
    {%- endif -%}
    {%- if var('incremental_since', none) is not none -%}  {#- unit tests pin it -#}
        {{ return("'" ~ var('incremental_since') ~ "'") }}
    {%- endif -%}
    {%- set state = incremental_state_relation() -%}
    {%- if load_relation(state) is none -%}
        {{ return("''") }}
    {%- endif -%}
    {%- set found = run_query(
        "select max_load_id from " ~ state ~ " where model = '" ~ this.identifier
        ~ "' and fingerprint = '" ~ incremental_fingerprint() ~ "'") -%}
    {%- if found.rows | length == 0 or found.rows[0][0] is none -%}
        {{ return("''") }}
    {%- endif -%}
    {{ return("'" ~ found.rows[0][0] ~ "'") }}
{%- endmacro %}

{#- The raw tables (dbt sources) a list of staging models read. -#}
{% macro incremental_raw_sources(staging_models) -%}
    {%- set relations = [] -%}
    {%- if not execute -%}
        {{ return(relations) }}
    {%- endif -%}
    {%- for name in staging_models -%}
        {%- set node = graph.nodes['model.' ~ project_name ~ '.' ~ name] -%}
        {%- for upstream in node.depends_on.nodes if upstream.startswith('source.') -%}
            {%- set source_node = graph.sources[upstream] -%}
            {%- do relations.append(source(source_node.source_name, source_node.name)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(relations) }}
{%- endmacro %}

{#- Post-hook of every incremental model (and of every staging model, dbt_project.yml; a view records nothing):
    remember the newest load id of the raw tables behind `staging_models` (no load runs during a build, so that is
    everything this run saw) and the fingerprint it was built with. -#}
{% macro record_incremental_state(staging_models) -%}
    {%- if model.config.materialized != 'incremental' or not execute -%}
    select 1
    {%- else -%}
    {%- set state = incremental_state_relation() -%}
    delete from {{ state }} where model = '{{ this.identifier }}';
    insert into {{ state }}
    select
        '{{ this.identifier }}',
        max(load_id),
        '{{ incremental_fingerprint() }}'
    from (
        {%- for relation in incremental_raw_sources(staging_models) %}
        select max(cast(_dlt_load_id as varchar)) as load_id from {{ relation }}
        {%- if not loop.last %} union all{% endif %}
        {%- endfor %}
    ) as loads
    {%- endif -%}
{%- endmacro %}

{#- The entities whose rows in `relation` (a staging model) were loaded after this model's last run:
    `select <key_sql> from relation where loaded_by > since`. -#}
{% macro loaded_since(relation, key_sql, since) -%}
    select {{ key_sql }} from {{ relation }} where cast(loaded_by as varchar) > {{ since }}
{%- endmacro %}

{#- Staging models are incremental tables on DuckDB (dbt_project.yml: `delete+insert` on the model's key), views on
    the other adapters. A view dedupes every version ever loaded each time it is read, and no filter on the
    deduped rows (a changed key, a load id) can go below the dedupe's window: each incremental model finding its
    changed entities, each data test of a staging model, re-ran it over the whole raw table. The tables dedupe
    once; a nightly dedupes only the keys with a version loaded since (`versions_loaded_since`). The small ones
    whose raw table is reloaded whole, or that have a nullable key (git tags, Copilot reports, Jira's sprints and
    statuses), stay views. -#}
{% macro staging_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'view') }}
{%- endmacro %}

{#- The versions a staging model dedupes, from `relation` (its `renamed` CTE): every row, or on an incremental
    build every version of each key (`key`, its columns) with a version loaded since the model's last build, so the
    dedupe still picks among all of a key's versions and a key comes out as a full build gives it. -#}
{% macro versions_loaded_since(relation, key) -%}
    select * from {{ relation }}
    {%- if is_incremental() %}
    where ({{ key }}) in (
        select {{ key }} from {{ relation }}
        where cast(loaded_by as {{ dbt.type_string() }}) > {{ incremental_since() }}
    )
    {%- endif %}
{%- endmacro %}

{#- Incremental on DuckDB (the warehouse); a plain table on the other adapters the project is checked on. -#}
{% macro incremental_materialization() -%}
    {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}

{#- `source_system:repository#number`, the pull request key, from a row's columns. -#}
{% macro pull_request_key_sql(source_system, repository='repository', number='pull_request_number') -%}
    {{ source_system }} || ':' || {{ repository }} || '#' || cast({{ number }} as {{ dbt.type_string() }})
{%- endmacro %}

{#- Row-wise incremental models (a row depends on one staging row only): `where loaded_by > since`. -#}
{% macro where_loaded_since() -%}
    {%- if is_incremental() %}
    where cast(loaded_by as varchar) > {{ incremental_since() }}
    {%- endif %}
{%- endmacro %}

{#- The keys (`key_sql` over each staging model) of the entities loaded since this model's last run. -#}
{% macro changed_since(staging_models, key_sql) -%}
    {%- set since = incremental_since() -%}
    {%- for name in staging_models %}
    {{ loaded_since(ref(name), key_sql, since) }}
    {%- if not loop.last %}
    union{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- Pre-hook of an append-only incremental model: delete the changed entities first, so an entity whose
    recomputation yields no row any more (a link that no longer holds) leaves none behind. -#}
{% macro delete_changed(key_column, staging_models, key_sql) -%}
    {%- if execute and incremental_materialization() == 'incremental' and is_incremental() -%}
    delete from {{ this }} where {{ key_column }} in ({{ changed_since(staging_models, key_sql) }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Product marts (fct_page_views, fct_sessions) are incremental by session: the sessions of every device whose
    events were loaded since the model's last run (int_page_events has already recomputed those devices, so a
    late event, a session spanning midnight or an identify is in place), across devices when a tracker session
    spans several. -#}
{% macro page_event_staging() -%}
    {{ return(['stg_events__segment_events', 'stg_events__snowplow_events']) }}
{%- endmacro %}

{#- The devices with an event loaded since this model's last run, read from int_page_events (built earlier in the
    same run, every event with the load that brought it): a scan of one column pair of a table, where the staging
    views behind it would dedupe every event ever received again (at 10 M events, minutes per product model). -#}
{% macro touched_devices() -%}
    select device_key from {{ ref('int_page_events') }}
    where cast(loaded_by as {{ dbt.type_string() }}) > {{ incremental_since() }}
{%- endmacro %}

{% macro touched_sessions() -%}
    select session_key from {{ ref('int_page_events') }}
    where device_key in ({{ touched_devices() }})
{%- endmacro %}

{#- Pre-hook of fct_sessions: delete the touched sessions and every session no event belongs to any more (a late
    event that moved a session's first event makes a new session key). -#}
{% macro delete_touched_sessions() -%}
    {%- if execute and incremental_materialization() == 'incremental' and is_incremental() -%}
    delete from {{ this }}
    where session_key in ({{ touched_sessions() }})
        or session_key not in (select session_key from {{ ref('int_page_events') }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Issue trackers' models (int_issue_transitions, int_issues) are incremental by issue, `source_system:issue_id`
    (the id, not the key: a Jira issue moved to another project keeps its id and changes its key): every row of
    an issue is deleted and recomputed when the issue or one of its changelog items was loaded since the model's
    last run (an issue transitioned days later, a GitHub issue reopened, whose `closed` move disappears). -#}
{% macro issue_staging() -%}
    {{ return(['stg_jira__issues', 'stg_jira__issue_changelog_items', 'stg_github__issues']) }}
{%- endmacro %}

{% macro changed_issues() -%}
    {%- set since = incremental_since() -%}
    {{ loaded_since(ref('stg_jira__issues'), "'jira:' || issue_id", since) }}
    union
    {{ loaded_since(ref('stg_jira__issue_changelog_items'), "'jira:' || issue_id", since) }}
    union
    {{ loaded_since(ref('stg_github__issues'), "'github:' || cast(issue_id as " ~ dbt.type_string() ~ ")", since) }}
{%- endmacro %}

{#- Pre-hook of the issue models: delete the changed issues' rows first (append strategy). -#}
{% macro delete_changed_issues() -%}
    {%- if execute and incremental_materialization() == 'incremental' and is_incremental() -%}
    delete from {{ this }} where source_system || ':' || issue_id in ({{ changed_issues() }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- The daily product models (int_funnel_progress, int_product_measures and the product_*_daily marts) are
    incremental by UTC day: every row of a touched day (or cohort day) is deleted and recomputed from all of that
    day's events, never patched. A day is touched when one of its events changed since the model's last run: an
    event of int_page_events whose `changed_by` is later (int_page_events recomputed its device and the row came
    out new or different: a late event, a session spanning midnight that re-keys the session, an identify
    re-attributing earlier days), and the day such an event moved away from (`changed_from_date`). A day's
    observations are aggregates of that day's events, so a day none of whose events changed is left as it is,
    however active its devices were since. Every cohort day whose funnel window reaches a touched day is touched
    too: a funnel step can come up to the longest `conversion_window_hours` (seeds/funnels.csv) after its entry, so
    a touched day also touches the ceil(window / 24) days before it. -#}
{% macro touched_days() -%}
    select distinct cast(touched.event_date - cast(offsets.days_before as integer) as date) as touched_date
    from (
        select unnest([changed.event_date, changed.changed_from_date]) as event_date
        from {{ ref('int_page_events') }} as changed
        where cast(changed.changed_by as {{ dbt.type_string() }}) > {{ incremental_since() }}
    ) as touched
    cross join (
        select unnest(generate_series(0, window_days)) as days_before
        from (
            select cast(ceil(coalesce(max(conversion_window_hours), 0) / 24.0) as bigint) as window_days
            from {{ ref('funnels') }}
        ) as funnel_windows
    ) as offsets
    where touched.event_date is not null
{%- endmacro %}

{#- Pre-hook of a daily product model: delete the touched days' rows (`date_column`) first. -#}
{% macro delete_touched_days(date_column) -%}
    {%- if execute and incremental_materialization() == 'incremental' and is_incremental() -%}
    delete from {{ this }} where {{ date_column }} in ({{ touched_days() }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
