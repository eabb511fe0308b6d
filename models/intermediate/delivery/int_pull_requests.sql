{%- set staging = ['stg_github__pull_requests', 'stg_gitlab__merge_requests', 'stg_github__pull_request_commits',
                   'stg_gitlab__merge_request_commits', 'stg_github__pull_request_reviews',
                   'stg_gitlab__merge_request_notes'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key='pull_request_key',
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
{%- for name in staging %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental: a pull request is recomputed whenever it, one of its commits or one of its reviews was loaded
-- since the last run (a PR reviewed or merged days after it opened is reloaded by the sources, so recomputed).
with

-- every tool's pull / merge requests, in one vocabulary (staging gives them the same columns)
pull_requests as (
    {{ union_by_name([ref('stg_github__pull_requests'), ref('stg_gitlab__merge_requests')], ['github', 'gitlab'],
                     exclude=['gitlab_state']) }}
),

pull_request_commits as (
    {{ union_by_name([ref('stg_github__pull_request_commits'), ref('stg_gitlab__merge_request_commits')],
                     ['github', 'gitlab']) }}
),

reviews as (
    select * from {{ ref('int_reviews') }}
),

repository_teams as (
    select * from {{ ref('repository_teams') }}
),

commit_summary as (
    select
        source_system || ':' || repository || '#' || cast(pull_request_number as {{ dbt.type_string() }}) as pull_request_key,
        min(authored_at) as first_commit_at,
        count(*) as commit_count
    from pull_request_commits
    group by source_system, repository, pull_request_number
),

-- reviews by someone other than the author; pending (unsubmitted) reviews do not count
review_summary as (
    select
        pull_request_key,
        min(submitted_at) as first_review_at,
        min(case when state = 'APPROVED' then submitted_at end) as approved_at,
        count(*) as review_count
    from reviews
    where not is_author_review
        and state <> 'PENDING'
        and submitted_at is not null
    group by pull_request_key
),

{%- if is_incremental() %}
{%- set since = incremental_since() %}

changed as (
    {% for name in staging -%}
    {{ loaded_since(ref(name), pull_request_key_sql("'" ~ ('gitlab' if 'gitlab' in name else 'github') ~ "'"), since) }}
    {% if not loop.last %}union{% endif %}
    {% endfor %}
),
{%- endif %}

keyed as (
    select
        source_system || ':' || repository || '#' || cast(pull_request_number as {{ dbt.type_string() }}) as pull_request_key,
        *
    from pull_requests
    {%- if is_incremental() %}
    where {{ pull_request_key_sql('source_system') }} in (select * from changed)
    {%- endif %}
),

final as (
    select
        -- ids
        keyed.pull_request_key,
        keyed.pull_request_id,
        keyed.repository,
        keyed.pull_request_number,
        coalesce(repository_teams.team, 'unassigned') as team,
        -- text
        keyed.title,
        keyed.body,
        keyed.state,
        keyed.head_ref,
        keyed.base_ref,
        keyed.merge_commit_sha,
        -- people
        keyed.author_login,
        {{ person_key('keyed.author_login') }} as author_key,
        keyed.merged_by_login,
        -- flags
        keyed.is_draft,
        keyed.merged_at is not null as is_merged,
        {{ matches('keyed.title', var('revert_pattern')) }} as is_revert,
        {{ matches('keyed.title', var('hotfix_pattern')) }}
        or {{ matches('keyed.head_ref', var('hotfix_pattern')) }} as is_hotfix,
        -- timestamps
        commit_summary.first_commit_at,
        keyed.created_at as opened_at,
        review_summary.first_review_at,
        review_summary.approved_at,
        keyed.merged_at,
        keyed.closed_at,
        keyed.updated_at,
        -- measures
        case
            when keyed.additions is not null or keyed.deletions is not null
                then coalesce(keyed.additions, 0) + coalesce(keyed.deletions, 0)
        end as size_lines,
        keyed.additions,
        keyed.deletions,
        keyed.changed_files,
        coalesce(commit_summary.commit_count, keyed.commit_count, 0) as commit_count,
        coalesce(review_summary.review_count, 0) as review_count,
        -- lineage
        keyed.source_system
    from keyed
    left join commit_summary
        on keyed.pull_request_key = commit_summary.pull_request_key
    left join review_summary
        on keyed.pull_request_key = review_summary.pull_request_key
    left join repository_teams
        on keyed.repository = repository_teams.repository
)

select * from final
