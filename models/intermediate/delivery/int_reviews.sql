with

reviews as (
    select * from {{ ref('stg_github__pull_request_reviews') }}
),

pull_requests as (
    select * from {{ ref('stg_github__pull_requests') }}
),

final as (
    select
        -- ids
        reviews.review_id,
        'github:' || reviews.repository || '#' || cast(reviews.pull_request_number as varchar) as pull_request_key,
        reviews.repository,
        reviews.pull_request_number,
        reviews.commit_sha,
        -- people
        reviews.reviewer_login,
        {{ person_key('reviews.reviewer_login') }} as reviewer_key,
        -- review
        reviews.state,
        coalesce(reviews.reviewer_login = pull_requests.author_login, false) as is_author_review,
        -- timestamps
        reviews.submitted_at,
        -- lineage
        'github' as source_system
    from reviews
    left join pull_requests
        on reviews.repository = pull_requests.repository
        and reviews.pull_request_number = pull_requests.pull_request_number
)

select * from final
