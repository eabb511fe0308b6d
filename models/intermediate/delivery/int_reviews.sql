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
)

select * from final
