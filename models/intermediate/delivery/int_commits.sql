{%- set staging = ['stg_github__commits', 'stg_gitlab__commits', 'stg_git__commits', 'stg_github__pull_request_commits', 'stg_gitlab__merge_request_commits'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key=['repository', 'sha'],
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
{%- for name in staging %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental: a commit (repository and SHA) is recomputed when any tool listed it since the last run.
-- Default-branch commits and pull request commits (which may never reach the default branch), one row per
-- repository and SHA; a commit seen in both keeps the default-branch version. Commits read from local git
-- clones (`stg_git__commits`) fill in what no API listed: a commit the GitHub or GitLab API also returned for
-- the same repository keeps the API's row (it carries the author's login), so `source_system` = 'git' marks
-- commits only the clone knows.
with

{%- set columns = 'repository, sha, parent_shas, message, author_login, authored_at, committed_at' %}

commits as (
    select {{ columns }}, 'github' as source_system from {{ ref('stg_github__commits') }}
    union all
    select {{ columns }}, 'gitlab' as source_system from {{ ref('stg_gitlab__commits') }}
),

git_commits as (
    select * from {{ ref('stg_git__commits') }}
),

pull_request_commits as (
    select {{ columns }}, 'github' as source_system from {{ ref('stg_github__pull_request_commits') }}
    union all
    select {{ columns }}, 'gitlab' as source_system from {{ ref('stg_gitlab__merge_request_commits') }}
),

{%- if is_incremental() %}
{%- set since = incremental_since() %}

changed as (
    {% for name in staging -%}
    {{ loaded_since(ref(name), "repository || '@' || sha", since) }}
    {% if not loop.last %}union{% endif %}
    {% endfor %}
),
{%- endif %}

unioned as (
    select
        repository,
        sha,
        parent_shas,
        message,
        author_login,
        authored_at,
        committed_at,
        true as is_on_default_branch,
        1 as preference,
        source_system
    from commits
    union all
    select
        repository,
        sha,
        parent_shas,
        message,
        author_login,
        authored_at,
        committed_at,
        false as is_on_default_branch,
        2 as preference,
        source_system
    from pull_request_commits
    union all
    select
        repository,
        sha,
        parent_shas,
        message,
        cast(null as {{ dbt.type_string() }}) as author_login,
        authored_at,
        committed_at,
        true as is_on_default_branch,
        3 as preference,
        'git' as source_system
    from git_commits
),

{%- if is_incremental() %}

changed_rows as (
    select * from unioned where repository || '@' || sha in (select * from changed)
),
{%- endif %}

deduplicated as (
    {{ dedupe('changed_rows' if is_incremental() else 'unioned', 'repository, sha', 'preference, committed_at desc nulls last, source_system') }}
),

final as (
    select
        -- ids
        source_system || ':' || repository || '@' || sha as commit_key,
        repository,
        sha,
        {{ split_words('parent_shas') }} as parent_shas,
        -- text
        message,
        -- people
        author_login,
        {{ person_key('author_login') }} as author_key,
        -- flags
        is_on_default_branch,
        -- timestamps
        authored_at,
        committed_at,
        -- lineage
        source_system
    from deduplicated
)

select
    *,
    {{ array_size('parent_shas') }} as parent_count,
    {{ array_size('parent_shas') }} > 1 as is_merge_commit
from final
