{%- set staging = ['stg_github__commits', 'stg_gitlab__commits', 'stg_git__commits', 'stg_github__pull_request_commits', 'stg_gitlab__merge_request_commits'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key=['repository', 'sha'],
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
{%- for name in staging %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental, like int_commits: the edges of the commits listed since the last run.
-- The commit graph's edges: one row per commit and parent, the input of the change ↔ deployment walk.
with

{%- if is_incremental() %}
{%- set since = incremental_since() %}

changed as (
    {% for name in staging -%}
    {{ loaded_since(ref(name), "repository || '@' || sha", since) }}
    {% if not loop.last %}union{% endif %}
    {% endfor %}
),
{%- endif %}

commits as (
    select * from {{ ref('int_commits') }}
    {%- if is_incremental() %}
    where repository || '@' || sha in (select * from changed)
    {%- endif %}
),

edges as (
    select
        repository,
        sha,
        {{ explode_with_position('parent_shas', 'parent_sha', 'parent_position') }},
        source_system
    from commits
),

final as (
    select
        -- ids
        repository,
        sha,
        parent_sha,
        -- graph
        parent_position,
        -- lineage
        source_system
    from edges
)

select * from final
