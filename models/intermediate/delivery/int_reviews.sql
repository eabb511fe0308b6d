{%- set staging = ['stg_github__pull_requests', 'stg_gitlab__merge_requests', 'stg_github__pull_request_reviews',
                   'stg_gitlab__merge_request_notes'] %}
{{ config(
    materialized=incremental_materialization(), incremental_strategy='delete+insert', unique_key='pull_request_key',
    on_schema_change='sync_all_columns', post_hook="{{ record_incremental_state(" ~ staging ~ ") }}"
) }}
{%- for name in staging %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- Incremental: every review of a pull request is recomputed when the pull request (its author decides
-- `is_author_review`) or any of its reviews was loaded since the last run.
with

github_reviews as (
    select * from {{ ref('stg_github__pull_request_reviews') }}
),

gitlab_notes as (
    select * from {{ ref('stg_gitlab__merge_request_notes') }}
),

pull_requests as (
    select
        repository,
        pull_request_number,
        author_login,
        'github' as source_system
    from {{ ref('stg_github__pull_requests') }}
    union all
    select
        repository,
        pull_request_number,
        author_login,
        'gitlab' as source_system
    from {{ ref('stg_gitlab__merge_requests') }}
),

-- GitLab has no review objects: approvals are system notes ("approved this merge request"), discussion is
-- user notes; other system notes (pushes, assignments, merges) are not reviews
gitlab_reviews as (
    select
        note_id as review_id,
        repository,
        pull_request_number,
        cast(null as {{ dbt.type_string() }}) as commit_sha,
        author_login as reviewer_login,
        case
            when is_system and body = 'approved this merge request' then 'APPROVED'
            when is_system and body = 'unapproved this merge request' then 'DISMISSED'
            else 'COMMENTED'
        end as state,
        created_at as submitted_at,
        'gitlab' as source_system
    from gitlab_notes
    where not is_system or body in ('approved this merge request', 'unapproved this merge request')
),

unioned as (
    select
        review_id,
        repository,
        pull_request_number,
        commit_sha,
        reviewer_login,
        state,
        submitted_at,
        'github' as source_system
    from github_reviews
    union all
    select * from gitlab_reviews
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

final as (
    select
        -- ids
        unioned.review_id,
        unioned.source_system || ':' || unioned.repository || '#'
        || cast(unioned.pull_request_number as {{ dbt.type_string() }}) as pull_request_key,
        unioned.repository,
        unioned.pull_request_number,
        unioned.commit_sha,
        -- people
        unioned.reviewer_login,
        {{ person_key('unioned.reviewer_login') }} as reviewer_key,
        -- review
        unioned.state,
        coalesce(unioned.reviewer_login = pull_requests.author_login, false) as is_author_review,
        -- timestamps
        unioned.submitted_at,
        -- lineage
        unioned.source_system
    from unioned
    left join pull_requests
        on unioned.source_system = pull_requests.source_system
        and unioned.repository = pull_requests.repository
        and unioned.pull_request_number = pull_requests.pull_request_number
    {%- if is_incremental() %}
    where {{ pull_request_key_sql('unioned.source_system', 'unioned.repository', 'unioned.pull_request_number') }}
        in (select * from changed)
    {%- endif %}
)

select * from final
